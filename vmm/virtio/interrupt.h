#pragma once
// The virtio-mmio interrupt: a status word the driver reads and acknowledges
// (VIRTIO_MMIO_INT_VRING, VIRTIO_MMIO_INT_CONFIG) and an eventfd that the VM
// turns into an edge on the slot's IOAPIC pin (KVM irqfd), so a device thread
// raises it without a VM exit or a lock.

#include <atomic>
#include <cstdint>

#include "common/fd.h"

namespace vmrt::vmm::virtio {

class Interrupt {
 public:
  Interrupt();
  int eventfd() const noexcept { return fd_.get(); }

  // Some queue has new used entries.
  void signal_used();
  // The configuration (or the device status: NEEDS_RESET) changed.
  void signal_config();

  uint32_t status() const noexcept { return status_.load(std::memory_order_acquire); }
  void acknowledge(uint32_t bits) noexcept { status_.fetch_and(~bits, std::memory_order_acq_rel); }
  void clear() noexcept { status_.store(0, std::memory_order_release); }

 private:
  void raise(uint32_t bit);
  UniqueFd fd_;
  std::atomic<uint32_t> status_{0};
};

}  // namespace vmrt::vmm::virtio
