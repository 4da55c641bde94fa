// agent/init/fresh_start.h on this host's kernel: the entropy the host hands
// a restored VM is taken (RNDADDENTROPY, RNDRESEEDCRNG) and too much is
// refused. (The clock is not set here: that would move the host's; the rig's
// template test checks the guest's against the host's.)
#include "agent/init/fresh_start.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <vector>

#include "common/error.h"

namespace vmrt::agent {
namespace {

using ::testing::HasSubstr;

TEST(FreshStart, EntropyIsMixedInAndTheCrngReseeded) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  std::vector<uint8_t> bytes(64);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 37);
  EXPECT_NO_THROW(reseed_entropy(bytes));
  EXPECT_NO_THROW(reseed_entropy({}));  // nothing to add: nothing done
}

TEST(FreshStart, MoreThanThePoolIsRefused) {
  std::vector<uint8_t> bytes(kMaxEntropyBytes + 1);
  try {
    reseed_entropy(bytes);
    FAIL() << "513 bytes taken";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("at most 512"));
  }
}

}  // namespace
}  // namespace vmrt::agent
