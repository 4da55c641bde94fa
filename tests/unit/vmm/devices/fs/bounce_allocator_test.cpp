// The relay's bounce space: whole pages, first fit, ranges given back in any
// order merge again, and a request larger than what is free waits (nullopt)
// rather than getting a range that overlaps another.
#include "vmm/devices/fs/bounce_allocator.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace vmrt::vmm::fs {
namespace {

constexpr uint64_t kPage = BounceAllocator::kPage;

TEST(BounceAllocatorTest, HandsOutWholePagesFirstFit) {
  BounceAllocator a(0x10000, 8 * kPage);
  EXPECT_EQ(a.allocate(1), 0x10000u);
  EXPECT_EQ(a.allocate(0), 0x10000u + kPage);  // an empty request takes a page too
  EXPECT_EQ(a.allocate(kPage + 1), 0x10000u + 2 * kPage);
  EXPECT_EQ(a.free_bytes(), 4 * kPage);
  EXPECT_EQ(a.allocate(5 * kPage), std::nullopt);
  EXPECT_EQ(a.allocate(4 * kPage), 0x10000u + 4 * kPage);
  EXPECT_EQ(a.allocate(1), std::nullopt);
}

TEST(BounceAllocatorTest, RangesGivenBackInAnyOrderMergeAgain) {
  BounceAllocator a(0, 6 * kPage);
  uint64_t r[3];
  for (auto& x : r) x = *a.allocate(2 * kPage);
  a.release(r[1], 2 * kPage);
  EXPECT_EQ(a.allocate(3 * kPage), std::nullopt);  // 2 pages free, not 3
  a.release(r[0], 2 * kPage);
  EXPECT_EQ(a.allocate(4 * kPage), 0u);  // merged with the one after it
  a.release(0, 4 * kPage);
  a.release(r[2], 2 * kPage);  // merged with the one before it
  EXPECT_EQ(a.free_bytes(), 6 * kPage);
  EXPECT_EQ(a.allocate(6 * kPage), 0u);
}

TEST(BounceAllocatorTest, RefusesARangeOfPartPages) {
  EXPECT_THROW(BounceAllocator(100, 8 * kPage), Error);
  EXPECT_THROW(BounceAllocator(0, 100), Error);
  EXPECT_THROW(BounceAllocator(0, 0), Error);
}

}  // namespace
}  // namespace vmrt::vmm::fs
