#pragma once
// virtio-mem (device type 24, virtio 1.2 section 5.15): memory the host
// grants a running guest and takes back, in 2 MiB blocks of a hotplug region
// above the guest's RAM (vmm/memory/hotplug_region.h). The host sets
// requested_size (set_requested_size, from the control socket) and raises
// a configuration change; the guest's driver plugs or unplugs blocks until
// plugged_size matches. Offered: VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE (an
// unplugged block cannot be touched: the VM stops); no ACPI_PXM (no ACPI).
//
// Snapshots: only with nothing plugged (a snapshot's memory file holds boot
// RAM only); the state saved is the region's size and requested_size.

#include <cstdint>
#include <memory>
#include <optional>

#include "vmm/devices/mem/counters.h"
#include "vmm/devices/mem/mem_worker.h"
#include "vmm/memory/hotplug_region.h"
#include "vmm/virtio/device.h"

namespace vmrt::vmm::mem {

// What the control socket reports.
struct MemStatus {
  uint64_t region_bytes;
  uint64_t block_bytes;
  uint64_t requested_bytes;
  uint64_t plugged_bytes;
};

class MemDevice : public virtio::VirtioDevice {
 public:
  // The driver sends one request at a time; a few slots are plenty.
  static constexpr uint16_t kQueueSize = 32;

  // `region` (the VM's GuestMemory::hotplug()) outlives the device.
  explicit MemDevice(HotplugRegion& region);
  ~MemDevice() override;

  uint32_t device_type() const override;
  uint64_t device_features() const override;
  std::vector<uint16_t> queue_max_sizes() const override { return {kQueueSize}; }
  void read_config(uint64_t offset, std::span<uint8_t> data) const override;
  uint32_t config_generation() const override;
  void activate(virtio::ActivateContext context) override;
  void reset() override;
  std::vector<virtio::QueuePositions> quiesce(std::span<const virtio::Queue> configured) override;
  void resume() override;
  nlohmann::json save_state() const override;
  void restore_state(const nlohmann::json& state) override;

  // Asks the guest to have `bytes` plugged: a multiple of the block size no
  // larger than the region, else vmrt::Error. A running driver gets a
  // configuration-change interrupt.
  void set_requested_size(uint64_t bytes);
  MemStatus status() const;
  const MemCounters& counters() const noexcept { return counters_; }

 private:
  HotplugRegion& region_;
  MemCounters counters_;
  MemConfigState state_;
  std::unique_ptr<MemWorker> worker_;
  // Between quiesce() and resume(): what the stopped worker served.
  std::optional<virtio::ActivateContext> quiesced_;
};

}  // namespace vmrt::vmm::mem
