#pragma once
// A fake virtio device whose queues are served only when a test says so
// (no threads), for tests of transports and of their snapshots.

#include <optional>

#include "common/error.h"
#include "vmm/virtio/device.h"

namespace vmrt::vmm::test {

inline constexpr uint32_t kFakeType = 42;
inline constexpr uint64_t kFakeFeature = 1ull << 3;
// A virtio device for transport tests, with two queues of kMax. It serves
// queue 0 on request: each chain is returned with its readable
// length as the used length. hold_one() keeps the next chain popped but unused.
class FakeDevice : public virtio::VirtioDevice {
 public:
  static constexpr uint16_t kMax = 16;
  explicit FakeDevice(uint32_t type = kFakeType) : type_(type) {}
  uint32_t device_type() const override { return type_; }
  uint64_t device_features() const override { return kFakeFeature; }
  std::vector<uint16_t> queue_max_sizes() const override { return {kMax, kMax}; }
  void read_config(uint64_t, std::span<uint8_t>) const override {}
  void activate(virtio::ActivateContext context) override { ctx_.emplace(std::move(context)); }
  void reset() override { ctx_.reset(); }

  std::vector<virtio::QueuePositions> quiesce(std::span<const virtio::Queue>) override {
    if (held_) fail("fake: 1 chain in flight");
    stopped_ = true;
    std::vector<virtio::QueuePositions> out;
    for (const auto& q : ctx_->queues) out.push_back(q.positions());
    return out;
  }
  void resume() override { stopped_ = false; }

  bool active() const { return ctx_.has_value(); }
  bool stopped() const { return stopped_; }
  virtio::Queue& queue(size_t i) { return ctx_->queues.at(i); }
  // Serves queue 0; returns how many chains it completed.
  int process() {
    virtio::Queue& q = ctx_->queues[0];
    int n = 0;
    while (auto chain = q.pop()) {
      q.add_used(chain->head, chain->readable_len);
      ++n;
    }
    if (n && q.needs_interrupt()) ctx_->interrupt.signal_used();
    return n;
  }
  void hold_one() { held_ = ctx_->queues[0].pop().has_value(); }
  // Makes quiesce() refuse as a device with work in flight does.
  void set_busy(bool busy) { held_ = busy; }

 private:
  uint32_t type_;
  std::optional<virtio::ActivateContext> ctx_;
  bool held_ = false;
  bool stopped_ = false;
};

}  // namespace vmrt::vmm::test
