// The guest memory map: low RAM, the reserved EBDA/BIOS area, RAM from 1 MiB,
// and RAM above 4 GiB for guests larger than the MMIO hole leaves room for.
#include "vmm/boot/e820.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "vmm/boot/layout.h"

namespace vmrt::vmm::boot {
namespace {

void expect_entry(const MemoryMapEntry& e, uint64_t addr, uint64_t size, uint32_t type) {
  EXPECT_EQ(e.addr, addr);
  EXPECT_EQ(e.size, size);
  EXPECT_EQ(e.type, type);
}

TEST(E820, SmallGuestHasLowRamReservedBiosAreaAndHighRam) {
  auto mem = GuestMemory::create(128 << 20);
  auto map = memory_map(mem);
  ASSERT_EQ(map.size(), 3u);
  expect_entry(map[0], 0, 0x9fc00, kE820Ram);
  expect_entry(map[1], 0x9fc00, 0x100000 - 0x9fc00, kE820Reserved);
  expect_entry(map[2], 0x100000, (128 << 20) - 0x100000, kE820Ram);
}

TEST(E820, TheMpTableIsInTheReservedArea) {
  auto mem = GuestMemory::create(16 << 20);
  auto map = memory_map(mem);
  EXPECT_GE(layout::kMpTable, map[1].addr);
  EXPECT_LE(layout::kMpTable + layout::kMpTableMax, map[1].addr + map[1].size);
}

TEST(E820, ThreeGiBExactlyFillsTheLowRegion) {
  auto mem = GuestMemory::create(uint64_t{3} << 30);
  auto map = memory_map(mem);
  ASSERT_EQ(map.size(), 3u);
  EXPECT_EQ(map[2].addr + map[2].size, GuestMemory::kMmioHoleStart);
}

TEST(E820, LargeGuestContinuesAboveFourGiB) {
  auto mem = GuestMemory::create(uint64_t{4} << 30);
  auto map = memory_map(mem);
  ASSERT_EQ(map.size(), 4u);
  expect_entry(map[2], 0x100000, GuestMemory::kMmioHoleStart - 0x100000, kE820Ram);
  expect_entry(map[3], GuestMemory::kMmioHoleEnd, uint64_t{1} << 30, kE820Ram);
  uint64_t ram = 0;
  for (const auto& e : map)
    if (e.type == kE820Ram) ram += e.size;
  EXPECT_EQ(ram, (uint64_t{4} << 30) - (0x100000 - 0x9fc00)) << "all RAM but the reserved area";
}

TEST(E820, EntriesAreSortedAndDisjoint) {
  auto mem = GuestMemory::create(uint64_t{5} << 30);
  auto map = memory_map(mem);
  for (size_t i = 1; i < map.size(); ++i) EXPECT_LE(map[i - 1].addr + map[i - 1].size, map[i].addr);
}

TEST(E820, OneMiBOfRamLeavesNoRoomForAKernel) {
  auto mem = GuestMemory::create(1 << 20);
  EXPECT_THROW(memory_map(mem), Error);
}

}  // namespace
}  // namespace vmrt::vmm::boot
