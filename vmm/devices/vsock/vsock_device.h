#pragma once
// virtio-vsock (device type 19): stream sockets between the guest (its CID
// from the configuration, 3 by default) and host processes, which reach it
// through one Unix socket per VM (hybrid vsock, see vsock_worker.h). The socket
// exists from construction, so host clients may connect while the guest is
// still booting; they are served once the driver is up.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/fd.h"
#include "vmm/devices/vsock/counters.h"
#include "vmm/devices/vsock/vsock_worker.h"
#include "vmm/virtio/device.h"

namespace vmrt::vmm::vsock {

struct VsockConfig {
  uint64_t guest_cid = 3;
  std::string uds_path;  // the VM's hybrid vsock socket
};

class VsockDevice : public virtio::VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;

  // Validates the CID and listens on uds_path; throws vmrt::Error.
  explicit VsockDevice(VsockConfig config);
  ~VsockDevice() override;

  uint32_t device_type() const override;
  uint64_t device_features() const override { return 0; }
  std::vector<uint16_t> queue_max_sizes() const override {
    return {kQueueSize, kQueueSize, kQueueSize};
  }
  void read_config(uint64_t offset, std::span<uint8_t> data) const override;
  void activate(virtio::ActivateContext context) override;
  void reset() override;
  // Snapshots: only with no stream open (VsockWorker::quiesce). The saved
  // state is the guest CID, which a restored VM's configuration must repeat:
  // the guest's driver read it at boot.
  std::vector<virtio::QueuePositions> quiesce(std::span<const virtio::Queue> configured) override;
  void resume() override;
  nlohmann::json save_state() const override;
  void restore_state(const nlohmann::json& state) override;

  const VsockCounters& counters() const noexcept { return counters_; }

 private:
  VsockConfig config_;
  VsockCounters counters_;
  UniqueFd listener_;
  std::unique_ptr<VsockWorker> worker_;
  // Between quiesce() and resume(): what the stopped worker served.
  std::optional<virtio::ActivateContext> quiesced_;
};

}  // namespace vmrt::vmm::vsock
