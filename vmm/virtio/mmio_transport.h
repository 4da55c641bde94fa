#pragma once
// virtio-mmio version 2 (virtio 1.x, section 4.2.2): the register block a
// driver uses to discover a device, negotiate features, configure queues and
// drive the status state machine. Registers are 32-bit; any other access is
// ignored (reads as zero). Queue notifications normally arrive through KVM
// ioeventfds registered by the machine on QueueNotify; a write that does
// reach this class is forwarded to the same eventfd.

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/fd.h"
#include "common/log_rate_limit.h"
#include "vmm/devices/bus.h"
#include "vmm/virtio/device.h"
#include "vmm/virtio/device_control_thread.h"
#include "vmm/virtio/interrupt.h"
#include "vmm/virtio/queue.h"

namespace vmrt::vmm::virtio {

class MmioTransport : public BusDevice {
 public:
  // The device starts and stops on `control` (which must outlive the
  // transport), or on the calling thread without one.
  MmioTransport(const GuestMemory& mem, std::shared_ptr<VirtioDevice> device,
                DeviceControlThread* control = nullptr);
  ~MmioTransport() override;

  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

  Interrupt& interrupt() noexcept { return interrupt_; }
  // One eventfd per queue, signalled on QueueNotify with the queue's index.
  int queue_event(size_t queue) const { return queue_events_.at(queue).get(); }
  size_t queue_count() const noexcept { return queues_.size(); }
  uint32_t status() const noexcept { return status_.load(std::memory_order_acquire); }
  VirtioDevice& device() noexcept { return *device_; }

  // Stops the device (as a driver reset would), e.g. before the VM's memory
  // goes away.
  void shutdown();

  // --- snapshots (mmio_transport_snapshot.cpp; format in
  // mmio_transport_state.h) ---
  // With the vCPUs paused: stops the device's threads so that its queues and
  // guest memory hold still (VirtioDevice::quiesce). Throws vmrt::Error, the
  // device still serving, when it cannot be snapshotted now (chains or
  // streams in flight, a driver halfway through setting it up, a device that
  // needs reset). Idempotent.
  void quiesce();
  // Serves again after quiesce(). Idempotent.
  void resume();
  bool quiesced() const;
  // The transport's and the device's state; between quiesce() and resume().
  // Checked as a restore would check it, so that what is saved restores.
  nlohmann::json save_state();
  // Makes this transport, fresh from construction and before any vCPU runs,
  // what save_state() saw: the registers, and with a driver that had set
  // DRIVER_OK the device activated on the restored queues (serving from
  // where the snapshot left them) and a pending interrupt raised again.
  // Throws vmrt::Error for state that is malformed or does not fit this
  // device; the transport is then left reset. The interrupt goes out on the
  // irqfd at once: restore after the VM's interrupt controller state.
  void restore_state(const nlohmann::json& state);

 private:
  uint32_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint32_t value);
  void write_status(uint32_t value);
  // Hands the configured queues to the device; throws what activate() threw.
  void activate_device();
  void reset_locked();
  void needs_reset(const std::string& why);
  Queue* selected_queue();
  void on_control_thread(const std::function<void()>& job);

  const GuestMemory& mem_;
  std::shared_ptr<VirtioDevice> device_;
  DeviceControlThread* control_;
  const uint64_t offered_features_;
  Interrupt interrupt_;
  std::vector<Queue> queues_;
  std::vector<UniqueFd> queue_events_;

  mutable std::mutex mu_;  // register state; vCPUs may access the block concurrently
  uint32_t device_features_sel_ = 0;
  uint32_t driver_features_sel_ = 0;
  uint64_t driver_features_ = 0;
  uint32_t queue_sel_ = 0;
  uint32_t config_generation_ = 0;
  bool activated_ = false;
  // Set by quiesce(): each queue's positions while the device is stopped.
  std::optional<std::vector<QueuePositions>> quiesced_;
  // Atomic: device threads set NEEDS_RESET without taking mu_.
  std::atomic<uint32_t> status_{0};
  // Every warning here is the driver's doing: a guest may repeat it at will.
  LogRateLimit warn_limit_;
};

}  // namespace vmrt::vmm::virtio
