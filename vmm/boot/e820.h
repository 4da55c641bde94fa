#pragma once
// The guest's physical memory map, shared by the zero page (e820_table) and
// the PVH start info (memmap): low RAM up to the EBDA, the reserved
// EBDA/VGA/BIOS area (which holds the MP table), RAM from 1 MiB to the end of
// the low region, and RAM above 4 GiB when the guest has more than the MMIO
// hole leaves below it.

#include <asm/e820.h>

#include <cstdint>
#include <vector>

#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

constexpr uint32_t kE820Ram = E820_RAM;
constexpr uint32_t kE820Reserved = E820_RESERVED;

struct MemoryMapEntry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;  // kE820Ram or kE820Reserved
};

// Sorted by address, non-overlapping. Throws vmrt::Error when the low region
// does not reach past 1 MiB (no room for a kernel).
std::vector<MemoryMapEntry> memory_map(const GuestMemory& mem);

}  // namespace vmrt::vmm::boot
