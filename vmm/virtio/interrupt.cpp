#include "vmm/virtio/interrupt.h"

#include <linux/virtio_mmio.h>
#include <sys/eventfd.h>

#include "common/error.h"

namespace vmrt::vmm::virtio {

Interrupt::Interrupt()
    : fd_(check_sys(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd for a virtio interrupt")) {}

void Interrupt::signal_used() { raise(VIRTIO_MMIO_INT_VRING); }
void Interrupt::signal_config() { raise(VIRTIO_MMIO_INT_CONFIG); }

void Interrupt::raise(uint32_t bit) {
  // The status bit first: the guest's handler reads it when the edge arrives.
  status_.fetch_or(bit, std::memory_order_acq_rel);
  uint64_t one = 1;
  // EAGAIN only when the counter is saturated, i.e. an edge is pending anyway.
  [[maybe_unused]] ssize_t r = ::write(fd_.get(), &one, sizeof one);
}

}  // namespace vmrt::vmm::virtio
