#include "vmm/virtio/interrupt.h"

#include <linux/virtio_mmio.h>

#include "common/event_fd.h"

namespace vmrt::vmm::virtio {

Interrupt::Interrupt() : fd_(make_eventfd("a virtio interrupt")) {}

void Interrupt::signal_used() { raise(VIRTIO_MMIO_INT_VRING); }
void Interrupt::signal_config() { raise(VIRTIO_MMIO_INT_CONFIG); }

void Interrupt::raise(uint32_t bit) {
  // The status bit first: the guest's handler reads it when the edge arrives.
  status_.fetch_or(bit, std::memory_order_acq_rel);
  signal_eventfd(fd_.get());
}

}  // namespace vmrt::vmm::virtio
