// The virtio-mem hotplug region: where it sits in guest-physical space,
// which of its bytes GuestMemory hands to devices (plugged blocks only),
// what the guest's view allows, and that unplugging frees the pages.
#include "vmm/memory/hotplug_region.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "common/error.h"
#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm {
namespace {

constexpr uint64_t kBlock = HotplugRegion::kBlockSize;
constexpr uint64_t kGiB = uint64_t{1} << 30;

// The permissions /proc/self/maps shows for the mapping holding `p`.
std::string perms_at(const void* p) {
  auto addr = reinterpret_cast<uintptr_t>(p);
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    uintptr_t from = 0, to = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &from, &to, perms) == 3 && addr >= from &&
        addr < to)
      return perms;
  }
  return "";
}

TEST(HotplugRegion, RefusesSizesAndAddressesNotOnMemoryBlocks) {
  EXPECT_THROW(HotplugRegion(4 * kGiB, 0), Error);
  EXPECT_THROW(HotplugRegion(4 * kGiB, 64 << 20), Error);
  EXPECT_THROW(HotplugRegion(4 * kGiB + kBlock, 128 << 20), Error);
  HotplugRegion ok(4 * kGiB, 128 << 20);
  EXPECT_EQ(ok.block_count(), 64u);
  EXPECT_EQ(ok.plugged_bytes(), 0u);
}

TEST(HotplugRegion, SitsAboveRamAndTheMmioHoleOnAGibBoundary) {
  GuestMemory small = GuestMemory::create(64 << 20);
  EXPECT_EQ(small.hotplug_base(), 4 * kGiB);  // above the 32-bit MMIO hole
  // 3.5 GiB of RAM: 0-3 GiB and 4-4.5 GiB; the region starts at 5 GiB.
  GuestMemory big = GuestMemory::create(3 * kGiB + kGiB / 2);
  EXPECT_EQ(big.hotplug_base(), 5 * kGiB);
  auto regions = big.regions();
  big.add_hotplug(256 << 20);
  ASSERT_NE(big.hotplug(), nullptr);
  EXPECT_EQ(big.hotplug()->gpa(), 5 * kGiB);
  EXPECT_EQ(big.hotplug()->size(), 256u << 20);
  // The boot RAM (what the e820 map and snapshots describe) is unchanged.
  ASSERT_EQ(big.regions().size(), regions.size());
  for (size_t i = 0; i < regions.size(); ++i) {
    EXPECT_EQ(big.regions()[i].gpa, regions[i].gpa);
    EXPECT_EQ(big.regions()[i].size, regions[i].size);
  }
  EXPECT_THROW(big.add_hotplug(128 << 20), Error);
}

TEST(HotplugRegion, DevicesReachOnlyPluggedBlocks) {
  GuestMemory mem = GuestMemory::create(64 << 20);
  mem.add_hotplug(128 << 20);
  HotplugRegion& h = *mem.hotplug();
  const uint64_t base = h.gpa();
  EXPECT_EQ(mem.host_ptr(base, 8), nullptr);
  EXPECT_THROW(mem.read_obj<uint64_t>(base), Error);

  h.plug(1, 2);  // blocks 1 and 2
  EXPECT_EQ(h.plugged_bytes(), 2 * kBlock);
  EXPECT_EQ(mem.host_ptr(base, 8), nullptr);
  EXPECT_NE(mem.host_ptr(base + kBlock, 2 * kBlock), nullptr);
  EXPECT_EQ(mem.host_ptr(base + kBlock, 2 * kBlock + 1), nullptr);  // into block 3
  EXPECT_EQ(mem.host_ptr(base + kBlock - 1, 2), nullptr);           // from block 0
  EXPECT_EQ(mem.host_ptr(base + 3 * kBlock - 8, UINT64_MAX), nullptr);
  EXPECT_EQ(mem.host_ptr(base + h.size(), 0), nullptr);
  mem.write_obj<uint64_t>(base + 2 * kBlock + 64, 0x1234'5678'9abc'def0);
  EXPECT_EQ(mem.read_obj<uint64_t>(base + 2 * kBlock + 64), 0x1234'5678'9abc'def0u);

  h.unplug(2, 1);
  EXPECT_EQ(h.plugged_bytes(), kBlock);
  EXPECT_EQ(mem.host_ptr(base + 2 * kBlock + 64, 8), nullptr);
  // Plugged again it starts from fresh pages: the old data was freed.
  h.plug(2, 1);
  EXPECT_EQ(mem.read_obj<uint64_t>(base + 2 * kBlock + 64), 0u);
  h.unplug_all();
  EXPECT_EQ(h.plugged_blocks(), 0u);
  EXPECT_EQ(mem.host_ptr(base + kBlock, 8), nullptr);
}

TEST(HotplugRegion, TheGuestsViewIsInaccessibleOverUnpluggedBlocks) {
  HotplugRegion h(4 * kGiB, 128 << 20);
  EXPECT_EQ(perms_at(h.guest_view()), "---s");
  h.plug(3, 1);
  EXPECT_EQ(perms_at(h.guest_view() + 3 * kBlock), "rw-s");
  EXPECT_EQ(perms_at(h.guest_view() + 2 * kBlock), "---s");
  EXPECT_EQ(perms_at(h.guest_view() + 4 * kBlock), "---s");
  h.guest_view()[3 * kBlock] = 7;  // plugged: writable through the guest's view
  h.unplug(3, 1);
  EXPECT_EQ(perms_at(h.guest_view() + 3 * kBlock), "---s");
}

TEST(HotplugRegion, BlockQueriesCheckTheirRange) {
  HotplugRegion h(4 * kGiB, 128 << 20);
  h.plug(0, 1);
  EXPECT_TRUE(h.all_plugged(0, 1));
  EXPECT_FALSE(h.all_plugged(0, 2));
  EXPECT_FALSE(h.none_plugged(0, 2));
  EXPECT_TRUE(h.none_plugged(1, 63));
  EXPECT_THROW(h.all_plugged(1, 64), Error);
  EXPECT_THROW(h.plug(64, 1), Error);
  EXPECT_THROW(h.unplug(UINT64_MAX, 2), Error);
}

}  // namespace
}  // namespace vmrt::vmm
