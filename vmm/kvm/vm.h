#pragma once
// One KVM VM: guest RAM slots, the in-kernel irqchip (PIC + IOAPIC + LAPICs)
// and PIT, interrupt lines, irqfds and ioeventfds.

#include <cstdint>
#include <optional>

#include "common/fd.h"
#include "vmm/kvm/kvm.h"
#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm {

class Vm {
 public:
  // Addresses KVM needs for its real-mode TSS (3 pages) and identity map page
  // on Intel; they sit just below the IOAPIC, outside RAM.
  static constexpr uint64_t kTssAddr = 0xfffb'd000;
  static constexpr uint64_t kIdentityMapAddr = 0xfffb'c000;

  // Creates the VM, its irqchip and PIT, and maps every RAM region of `mem`.
  static Vm create(const Kvm& kvm, const GuestMemory& mem);

  int fd() const noexcept { return fd_.get(); }

  // Drives an irqchip input line (ISA IRQs 0-15 reach the PIC and IOAPIC,
  // 16-23 the IOAPIC only).
  void set_irq_line(uint32_t irq, bool level) const;
  // A rising then falling edge on `irq`.
  void pulse_irq(uint32_t irq) const;

  // Signalling `eventfd` raises `gsi` without a VMM exit.
  void add_irqfd(int eventfd, uint32_t gsi) const;
  // A guest write of `len` bytes to MMIO `addr` signals `eventfd` in the
  // kernel instead of exiting to the VMM; with `datamatch`, only a write of
  // that value does (one eventfd per virtqueue on a shared notify register).
  void add_ioeventfd(int eventfd, uint64_t addr, uint32_t len,
                     std::optional<uint64_t> datamatch = std::nullopt) const;

 private:
  UniqueFd fd_;
};

}  // namespace vmrt::vmm
