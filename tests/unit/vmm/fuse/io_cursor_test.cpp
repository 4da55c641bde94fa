// The scatter-gather cursor: fields split at any byte, limits, names.
#include "vmm/fuse/io_cursor.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/vmm/fuse/fuse_client.h"

namespace vmrt::fuse {
namespace {

TEST(FuseIoCursor, ReadsAcrossEverySplit) {
  std::string data = "0123456789abcdef";
  for (size_t chunk = 1; chunk <= data.size(); ++chunk) {
    auto iov = test::split(data, chunk);
    IoCursor c(iov);
    char a[5] = {}, b[11] = {};
    ASSERT_TRUE(c.read(a, 4));
    ASSERT_TRUE(c.read(b, 10));
    EXPECT_STREQ(a, "0123");
    EXPECT_STREQ(b, "456789abcd");
    EXPECT_EQ(c.remaining(), 2u);
    EXPECT_FALSE(c.read(b, 3)) << "chunk " << chunk;
    EXPECT_EQ(c.remaining(), 2u) << "a failed read consumes nothing";
  }
}

TEST(FuseIoCursor, LimitCapsWhatCanBeReached) {
  std::string data = "abcdefgh";
  auto iov = test::split(data, 3);
  IoCursor c(iov, 5);
  EXPECT_EQ(c.remaining(), 5u);
  char buf[8];
  EXPECT_FALSE(c.read(buf, 6));
  EXPECT_TRUE(c.skip(5));
  EXPECT_EQ(c.remaining(), 0u);
}

TEST(FuseIoCursor, EmptySegmentsAreSkipped) {
  char a[] = "ab", b[] = "cd";
  iovec iov[] = {{nullptr, 0}, {a, 2}, {nullptr, 0}, {nullptr, 0}, {b, 2}, {nullptr, 0}};
  IoCursor c(iov);
  char out[4];
  ASSERT_TRUE(c.read(out, 4));
  EXPECT_EQ(std::string(out, 4), "abcd");
}

TEST(FuseIoCursor, CStringAcrossSegmentsAndLimits) {
  std::string data = std::string("hello") + '\0' + "rest";
  for (size_t chunk = 1; chunk <= data.size(); ++chunk) {
    auto iov = test::split(data, chunk);
    IoCursor c(iov);
    std::string s;
    ASSERT_TRUE(c.read_cstring(s, 5));
    EXPECT_EQ(s, "hello");
    EXPECT_EQ(c.remaining(), 4u);
    EXPECT_FALSE(c.read_cstring(s, 100)) << "no NUL in the rest";
    EXPECT_EQ(c.remaining(), 4u);
  }
  auto iov = test::split(data, 2);
  IoCursor c(iov);
  std::string s;
  EXPECT_FALSE(c.read_cstring(s, 4)) << "longer than max";
  EXPECT_EQ(c.remaining(), data.size());
}

TEST(FuseIoCursor, TakeSlicesWithoutCopying) {
  std::string data = "0123456789";
  auto iov = test::split(data, 4);
  IoCursor c(iov);
  c.skip(2);
  auto parts = c.take(5);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].iov_base, data.data() + 2);
  EXPECT_EQ(parts[0].iov_len, 2u);
  EXPECT_EQ(parts[1].iov_len, 3u);
  EXPECT_EQ(c.remaining(), 3u);
  EXPECT_EQ(c.take(100).size(), 2u) << "take stops at the end";
}

TEST(FuseIoCursor, WriteFillsSegmentsInOrder) {
  std::string out(6, '.');
  auto iov = test::split(out, 4);
  IoCursor c(iov);
  EXPECT_TRUE(c.write("abc", 3));
  EXPECT_TRUE(c.write("de", 2));
  EXPECT_FALSE(c.write("xy", 2));
  EXPECT_EQ(out, "abcde.");
}

TEST(FuseIoCursor, HugeLengthsDoNotWrap) {
  char a[4];
  iovec iov[] = {{a, SIZE_MAX - 1}, {a, 8}};
  IoCursor c(iov);
  EXPECT_EQ(c.remaining(), SIZE_MAX);
}

}  // namespace
}  // namespace vmrt::fuse
