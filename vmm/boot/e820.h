#pragma once
// The guest's physical memory map, shared by the zero page (e820) and the PVH
// start info (memmap): low RAM, the reserved EBDA/BIOS area, RAM from 1 MiB,
// and RAM above 4 GiB when there is more than the MMIO hole leaves.

#include <cstdint>
#include <vector>

#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

constexpr uint32_t kE820Ram = 1;
constexpr uint32_t kE820Reserved = 2;

struct MemoryMapEntry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;
};

std::vector<MemoryMapEntry> memory_map(const GuestMemory& mem);

}  // namespace vmrt::vmm::boot
