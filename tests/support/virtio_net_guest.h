#pragma once
// The guest side of a virtio-net device for tests: a simulated driver over
// fake guest memory that brings the device up through its virtio-mmio
// registers, sends frames on the transmit queue, posts receive buffers and
// reassembles received frames (mergeable buffers included), as the Linux
// driver does.

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "tests/support/virtio_driver.h"
#include "tests/support/virtio_mmio_driver.h"
#include "vmm/devices/net/frame_limits.h"
#include "vmm/devices/net/net_device.h"
#include "vmm/virtio/mmio_transport.h"

namespace vmrt::vmm::test {

inline constexpr uint64_t feature(unsigned bit) { return 1ull << bit; }

struct RxFrame {
  virtio_net_hdr_v1 hdr{};
  std::vector<uint8_t> data;  // the frame after the header
  uint32_t buffers = 0;       // used entries it took
};

class NetGuest {
 public:
  static constexpr uint16_t kQueueSize = 128;

  explicit NetGuest(std::shared_ptr<net::NetDevice> device)
      : transport_(std::make_unique<virtio::MmioTransport>(mem_, std::move(device))) {}
  ~NetGuest() { transport_.reset(); }

  virtio::MmioTransport& transport() { return *transport_; }
  GuestMemory& mem() { return mem_; }
  VirtioDriver& rx() { return rx_; }
  VirtioDriver& tx() { return tx_; }
  uint32_t status() { return mmio_read(*transport_, VIRTIO_MMIO_STATUS); }

  // Negotiates `features` (VIRTIO_F_VERSION_1 is added); `before_ok` runs
  // just before DRIVER_OK. Returns the device status.
  template <typename Fn = void (*)()>
  uint32_t bring_up(
      uint64_t features, Fn before_ok = [] {}) {
    features_ = features | feature(VIRTIO_F_VERSION_1);
    return test::bring_up(*transport_, {&rx_, &tx_}, features_, before_ok);
  }
  void reset() { mmio_write(*transport_, VIRTIO_MMIO_STATUS, 0); }

  // One transmit chain: the header in its own descriptor, then the frame
  // split into pieces of at most `piece` bytes.
  uint16_t send(std::span<const uint8_t> frame, virtio_net_hdr_v1 hdr = {},
                size_t piece = 1 << 20) {
    std::vector<Buffer> bufs{
        {tx_.alloc_bytes({reinterpret_cast<const uint8_t*>(&hdr), sizeof hdr}), sizeof hdr}};
    for (size_t at = 0; at < frame.size(); at += piece) {
      auto part = frame.subspan(at, std::min(piece, frame.size() - at));
      bufs.push_back({tx_.alloc_bytes(part), static_cast<uint32_t>(part.size())});
    }
    return post_tx(bufs);
  }
  uint16_t post_tx(const std::vector<Buffer>& bufs) {
    uint16_t head = tx_.add(bufs);
    mmio_write(*transport_, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    return head;
  }

  // Posts `n` receive buffers of `len` bytes each, then notifies.
  void post_rx(int n, uint32_t len) {
    for (int i = 0; i < n; ++i) {
      uint64_t gpa = rx_.alloc(len);
      rx_bufs_[rx_.add({{gpa, len, true}})] = gpa;
    }
    mmio_write(*transport_, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  }

  // Used transmit entries so far, waiting up to `timeout` for `n` of them.
  std::vector<Used> wait_tx_used(size_t n, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (auto u : tx_.take_used()) tx_used_.push_back(u);
      if (tx_used_.size() >= n || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return tx_used_;
  }

  // The next received frame, put together from as many used entries as its
  // header's num_buffers says (all of which must already be visible).
  std::optional<RxFrame> receive(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto u : rx_.take_used()) rx_used_.push_back(u);
      if (!rx_used_.empty()) return take_frame();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return std::nullopt;
  }
  // Used receive entries not yet taken as frames (e.g. returned unused).
  std::vector<Used>& rx_used() { return rx_used_; }

 private:
  RxFrame take_frame() {
    RxFrame f;
    Used first = rx_used_.front();
    uint64_t gpa = rx_bufs_.at(static_cast<uint16_t>(first.id));
    f.hdr = mem_.read_obj<virtio_net_hdr_v1>(gpa);
    uint32_t n = f.hdr.num_buffers;
    f.buffers = n;
    if (n == 0 || n > rx_used_.size()) {
      rx_used_.erase(rx_used_.begin());
      return f;  // the test fails on buffers
    }
    for (uint32_t i = 0; i < n; ++i) {
      Used u = rx_used_[i];
      auto bytes = rx_.read(rx_bufs_.at(static_cast<uint16_t>(u.id)), u.len);
      size_t skip = i == 0 ? net::kHeaderSize : 0;
      if (bytes.size() > skip) f.data.insert(f.data.end(), bytes.begin() + skip, bytes.end());
    }
    rx_used_.erase(rx_used_.begin(), rx_used_.begin() + n);
    return f;
  }

  GuestMemory mem_ = GuestMemory::create(32 << 20);
  VirtioDriver rx_{mem_, kQueueSize, 0x10000, 0x100000};
  VirtioDriver tx_{mem_, kQueueSize, 0x20000, 0x1000000};
  std::unique_ptr<virtio::MmioTransport> transport_;
  uint64_t features_ = 0;
  std::map<uint16_t, uint64_t> rx_bufs_;
  std::vector<Used> rx_used_;
  std::vector<Used> tx_used_;
};

}  // namespace vmrt::vmm::test
