#pragma once
// The GDT and identity page tables a kernel entry point expects to find, and
// the segment registers that go with them.

#include <linux/kvm.h>

#include <cstdint>

#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

// Selectors in the GDT written by write_gdt. The 64-bit boot protocol wants
// __BOOT_CS at 0x10 and __BOOT_DS at 0x18.
constexpr uint16_t kCode32Selector = 0x08;
constexpr uint16_t kCode64Selector = 0x10;
constexpr uint16_t kDataSelector = 0x18;
constexpr uint16_t kTssSelector = 0x20;
constexpr uint16_t kGdtEntries = 5;

// Flat GDT at layout::kGdt.
void write_gdt(const GuestMemory& mem);
// Identity map of the first 4 GiB with 2 MiB pages at layout::kPml4; returns CR3.
uint64_t write_identity_page_tables(const GuestMemory& mem);

// The segment register KVM needs for the descriptor at `selector` of the GDT
// written by write_gdt.
kvm_segment gdt_segment(uint16_t selector);
uint64_t gdt_entry(uint16_t selector);

}  // namespace vmrt::vmm::boot
