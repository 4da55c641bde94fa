#include "vmm/boot/page_tables.h"

#include <array>

#include "vmm/boot/layout.h"

namespace vmrt::vmm::boot {

namespace {
constexpr uint64_t kPresent = 1u << 0;
constexpr uint64_t kWritable = 1u << 1;
constexpr uint64_t kLargePage = 1u << 7;  // PS in a PD entry: a 2 MiB page
constexpr uint64_t kEntriesPerTable = 512;
}  // namespace

uint64_t write_identity_page_tables(const GuestMemory& mem) {
  // Cleared whole so that entries left from an earlier boot never survive.
  mem.fill(layout::kPml4, layout::kPageTablesEnd - layout::kPml4, 0);
  mem.write_obj(layout::kPml4, layout::kPdpt | kPresent | kWritable);
  for (uint64_t gib = 0; gib < layout::kPdCount; ++gib) {
    uint64_t pd = layout::kPd + gib * layout::kPage;
    mem.write_obj(layout::kPdpt + gib * 8, pd | kPresent | kWritable);
    std::array<uint64_t, kEntriesPerTable> entries;
    for (uint64_t i = 0; i < kEntriesPerTable; ++i)
      entries[i] = ((gib << 30) | (i << 21)) | kPresent | kWritable | kLargePage;
    mem.write_obj(pd, entries);
  }
  return layout::kPml4;
}

}  // namespace vmrt::vmm::boot
