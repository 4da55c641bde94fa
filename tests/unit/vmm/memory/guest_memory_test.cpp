#include "vmm/memory/guest_memory.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

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

// Another process's view of the same RAM (the virtio-fs file server's):
// the same layout and the same bytes, and only RAM-sized memory files.
TEST(GuestMemory, AdoptedRamIsTheSamePagesWithTheSameLayout) {
  GuestMemory mem = GuestMemory::create(uint64_t{4} << 30);
  GuestMemory view = GuestMemory::adopt(UniqueFd(fcntl(mem.fd(), F_DUPFD_CLOEXEC, 0)));
  EXPECT_EQ(view.size(), mem.size());
  ASSERT_EQ(view.regions().size(), 2u);
  EXPECT_EQ(view.regions()[1].gpa, GuestMemory::kMmioHoleEnd);
  mem.write_obj<uint64_t>(GuestMemory::kMmioHoleEnd + 8, 42);
  EXPECT_EQ(view.read_obj<uint64_t>(GuestMemory::kMmioHoleEnd + 8), 42u);
  EXPECT_NE(view.host_base(), mem.host_base());

  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  UniqueFd write_end(p[1]);
  EXPECT_THROW(GuestMemory::adopt(UniqueFd(p[0])), Error);
  UniqueFd small(memfd_create("small", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  ASSERT_EQ(ftruncate(small.get(), 4096), 0);
  ASSERT_EQ(fcntl(small.get(), F_ADD_SEALS, F_SEAL_SHRINK), 0);
  EXPECT_THROW(GuestMemory::adopt(std::move(small)), Error);
  // RAM whose owner could shrink it under the mapping is refused.
  UniqueFd unsealed(memfd_create("unsealed", MFD_CLOEXEC));
  ASSERT_EQ(ftruncate(unsealed.get(), 1 << 20), 0);
  EXPECT_THROW(GuestMemory::adopt(std::move(unsealed)), Error);
  EXPECT_NE(ftruncate(mem.fd(), 1 << 20), 0) << "created RAM keeps its size";
}

}  // namespace
}  // namespace vmrt::vmm
