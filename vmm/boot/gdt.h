#pragma once
// The flat GDT (and empty IDT) a kernel entry point expects to find, and the
// segment registers that go with it, in the form KVM_SET_SREGS takes.
//
// Selectors: 0x08 code32, 0x10 code64, 0x18 data, 0x20 TSS. The 64-bit boot
// protocol (Documentation/arch/x86/boot.rst) requires __BOOT_CS = 0x10 and
// __BOOT_DS = 0x18; the 32-bit code segment is for the PVH entry.

#include <linux/kvm.h>

#include <cstdint>

#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

constexpr uint16_t kCode32Selector = 0x08;
constexpr uint16_t kCode64Selector = 0x10;
constexpr uint16_t kDataSelector = 0x18;
constexpr uint16_t kTssSelector = 0x20;
// null, code32, code64, data, TSS, and a null upper half for the TSS (system
// descriptors are 16 bytes in long mode).
constexpr uint16_t kGdtEntries = 6;

// Which code segment the boot vCPU starts in.
enum class CpuMode { Protected32, Long64 };

// Everything the vCPU's special registers need from the GDT written by
// write_gdt: GDTR, IDTR and the segment registers.
struct GdtSetup {
  uint64_t gdt_base;
  uint16_t gdt_limit;
  uint64_t idt_base;
  uint16_t idt_limit;
  kvm_segment cs;    // code32 or code64 by the mode
  kvm_segment data;  // for DS, ES, FS, GS and SS
  kvm_segment tr;
};

// Writes the GDT at layout::kGdt and a null IDT at layout::kIdt (any
// exception before the kernel installs its own IDT then ends in a triple
// fault, which the VMM sees, instead of running stray code).
GdtSetup write_gdt(const GuestMemory& mem, CpuMode mode = CpuMode::Long64);

// The raw descriptor at `selector` in the GDT written by write_gdt.
uint64_t gdt_entry(uint16_t selector);
// Decodes a code, data or system descriptor (SDM vol. 3, 3.4.5) into the
// hidden part of a segment register; the limit is in bytes.
kvm_segment segment_from_gdt(uint64_t entry, uint16_t selector);
// segment_from_gdt(gdt_entry(selector), selector).
kvm_segment gdt_segment(uint16_t selector);

}  // namespace vmrt::vmm::boot
