#pragma once
// What the kernel reads at its entry point to learn about the machine: the
// zero page (struct boot_params) of the 64-bit Linux boot protocol, or the PVH
// hvm_start_info. Both carry the memory map, command line and initrd.

#include <asm/bootparam.h>

#include <cstdint>
#include <span>

#include "vmm/boot/e820.h"
#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

// A blob in guest RAM handed to the kernel (the initrd); size 0 for none.
struct BootModule {
  uint64_t addr = 0;
  uint64_t size = 0;
};

// The type_of_loader of a boot loader without an assigned id.
constexpr uint8_t kLoaderTypeUndefined = 0xff;

// The setup header for a vmlinux booted through the 64-bit protocol: an ELF
// has none, so this states what a bzImage of the same kernel would (boot
// flag, HdrS, protocol 2.15, 16 MiB alignment, 2 GiB initrd limit, 2047-byte
// command line).
setup_header vmlinux_setup_header();

// The zero page for `kernel_header` (a bzImage's, or vmlinux_setup_header()),
// with the boot loader's fields set: type_of_loader, loadflags (LOADED_HIGH |
// KEEP_SEGMENTS, no heap), command line, initrd (ext_* fields for the high
// halves), the e820 table, no setup_data. Throws vmrt::Error for a map the
// zero page cannot hold or a command line above 4 GiB.
boot_params make_zero_page(const setup_header& kernel_header, std::span<const MemoryMapEntry> map,
                           uint64_t cmdline_addr, BootModule initrd);

// Writes `zero_page` at layout::kZeroPage; returns that address.
uint64_t write_zero_page(const GuestMemory& mem, const boot_params& zero_page);

// Writes hvm_start_info (version 1) at layout::kPvhStartInfo, the memory map
// at layout::kPvhMemmap and, when there is an initrd, a one-module list at
// layout::kPvhModlist; returns the start info's address (EBX at entry).
uint64_t write_pvh_start_info(const GuestMemory& mem, std::span<const MemoryMapEntry> map,
                              uint64_t cmdline_addr, BootModule initrd);

}  // namespace vmrt::vmm::boot
