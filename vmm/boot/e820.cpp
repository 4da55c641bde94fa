#include "vmm/boot/e820.h"

#include "common/error.h"
#include "vmm/boot/layout.h"

namespace vmrt::vmm::boot {

std::vector<MemoryMapEntry> memory_map(const GuestMemory& mem) {
  const std::vector<RamRegion>& regions = mem.regions();
  if (regions.empty() || regions[0].gpa != 0 || regions[0].size <= layout::kHighMemory)
    fail("guest RAM of {} MiB leaves nothing above 1 MiB for the kernel", mem.size() >> 20);
  std::vector<MemoryMapEntry> map = {
      {0, layout::kEbdaStart, kE820Ram},
      // Firmware's area on a PC: the guest must not allocate the MP table.
      {layout::kEbdaStart, layout::kHighMemory - layout::kEbdaStart, kE820Reserved},
      {layout::kHighMemory, regions[0].size - layout::kHighMemory, kE820Ram},
  };
  for (size_t i = 1; i < regions.size(); ++i)
    map.push_back({regions[i].gpa, regions[i].size, kE820Ram});
  return map;
}

}  // namespace vmrt::vmm::boot
