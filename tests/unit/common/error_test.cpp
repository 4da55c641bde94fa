#include "common/error.h"

#include <fcntl.h>
#include <gtest/gtest.h>

namespace vmrt {
namespace {

TEST(Error, ThrowErrnoNamesTheCallAndTheReason) {
  try {
    check_sys(::open("/nonexistent/vmrt", O_RDONLY), "open /nonexistent/vmrt");
    FAIL() << "open of a missing file succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ENOENT);
    EXPECT_STREQ(e.what(), "open /nonexistent/vmrt: No such file or directory");
  }
}

TEST(Error, FailFormats) {
  try {
    fail("bad value {} for {}", 7, "cpus");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), 0);
    EXPECT_STREQ(e.what(), "bad value 7 for cpus");
  }
}

}  // namespace
}  // namespace vmrt
