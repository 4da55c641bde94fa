#pragma once
// Loads an ELF64 x86-64 vmlinux by its physical (p_paddr) load segments and
// finds its PVH entry point. Every header field is untrusted: offsets, sizes
// and addresses are checked against the image and guest RAM, with arithmetic
// that cannot overflow.

#include <cstdint>
#include <optional>
#include <span>

#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

struct LoadedElf {
  // Physical address of e_entry (vmlinux: startup_64, entered in long mode
  // through the 64-bit boot protocol).
  uint64_t entry64;
  // The XEN_ELFNOTE_PHYS32_ENTRY note's value (vmlinux: pvh_start_xen,
  // entered in 32-bit protected mode), when the kernel has one.
  std::optional<uint32_t> pvh_entry;
  uint64_t start;  // lowest loaded byte
  uint64_t end;    // first byte after the highest segment, bss included
};

// True when the image starts with the ELF magic (it may still be malformed).
bool is_elf(std::span<const uint8_t> image);

// Copies every PT_LOAD segment to its p_paddr and zeroes its bss. Throws
// vmrt::Error naming the problem when the image is not a loadable x86-64
// executable: bad identification, program headers or notes outside the
// image, filesz > memsz, segments outside guest RAM, below 1 MiB (the boot
// tables' area) or overlapping one another, or an entry point in no segment.
LoadedElf load_elf(const GuestMemory& mem, std::span<const uint8_t> image);

}  // namespace vmrt::vmm::boot
