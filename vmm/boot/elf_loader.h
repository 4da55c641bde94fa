#pragma once
// Loads an ELF64 x86-64 vmlinux by its physical (p_paddr) load segments and
// finds its PVH entry point. Every header field is untrusted: offsets, sizes
// and addresses are checked against the image and guest RAM.

#include <cstdint>
#include <optional>
#include <span>

#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

struct LoadedElf {
  uint64_t entry64;                   // physical address of e_entry (64-bit startup)
  std::optional<uint32_t> pvh_entry;  // XEN_ELFNOTE_PHYS32_ENTRY, when present
  uint64_t end;                       // first byte after the highest segment
};

bool is_elf(std::span<const uint8_t> image);
LoadedElf load_elf(const GuestMemory& mem, std::span<const uint8_t> image);

}  // namespace vmrt::vmm::boot
