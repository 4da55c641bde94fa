#include "vmm/memory/guest_memory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "common/error.h"

namespace vmrt::vmm {
namespace {

TEST(GuestMemory, SmallRamIsOneRegionFromZero) {
  GuestMemory mem = GuestMemory::create(16 << 20);
  ASSERT_EQ(mem.regions().size(), 1u);
  EXPECT_EQ(mem.regions()[0].gpa, 0u);
  EXPECT_EQ(mem.regions()[0].size, 16u << 20);
  EXPECT_GE(mem.fd(), 0);
}

TEST(GuestMemory, RamAboveThreeGiBContinuesAtFourGiB) {
  GuestMemory mem = GuestMemory::create(uint64_t{4} << 30);
  ASSERT_EQ(mem.regions().size(), 2u);
  EXPECT_EQ(mem.regions()[0].size, GuestMemory::kMmioHoleStart);
  EXPECT_EQ(mem.regions()[1].gpa, GuestMemory::kMmioHoleEnd);
  EXPECT_EQ(mem.regions()[1].size, uint64_t{1} << 30);
  EXPECT_EQ(mem.host_ptr(GuestMemory::kMmioHoleStart, 1), nullptr);
  EXPECT_EQ(mem.host_ptr(GuestMemory::kMmioHoleStart - 1, 2), nullptr)
      << "ranges never span the hole";
  EXPECT_NE(mem.host_ptr(GuestMemory::kMmioHoleEnd, 4096), nullptr);
}

TEST(GuestMemory, ReadsBackWhatWasWritten) {
  GuestMemory mem = GuestMemory::create(1 << 20);
  mem.write_obj<uint64_t>(0x1000, 0x1122334455667788);
  EXPECT_EQ(mem.read_obj<uint64_t>(0x1000), 0x1122334455667788u);
  mem.fill(0x2000, 16, 0xab);
  EXPECT_EQ(mem.read_obj<uint8_t>(0x200f), 0xab);
}

TEST(GuestMemory, RejectsRangesOutsideRam) {
  GuestMemory mem = GuestMemory::create(1 << 20);
  EXPECT_EQ(mem.host_ptr(1 << 20, 1), nullptr);
  EXPECT_EQ(mem.host_ptr((1 << 20) - 4, 8), nullptr);
  EXPECT_EQ(mem.host_ptr(std::numeric_limits<uint64_t>::max(), 2), nullptr);
  EXPECT_EQ(mem.host_ptr(8, std::numeric_limits<uint64_t>::max()), nullptr);
  EXPECT_NE(mem.host_ptr(1 << 20, 0), nullptr) << "an empty range at the end is inside";
  EXPECT_THROW(mem.read_obj<uint32_t>((1 << 20) - 2), Error);
}

TEST(GuestMemory, RejectsBadSizes) {
  EXPECT_THROW(GuestMemory::create(0), Error);
  EXPECT_THROW(GuestMemory::create((1 << 20) + 1), Error);
  EXPECT_THROW(GuestMemory::create(uint64_t{1} << 50), Error);
  EXPECT_THROW(GuestMemory::create((3 << 20) + 4096, true), Error);
}

}  // namespace
}  // namespace vmrt::vmm
