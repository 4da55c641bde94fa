// The VMM's cgroup limits, from the VM's size.
#include "sandbox/vmm_cgroup.h"

#include <gtest/gtest.h>

namespace vmrt::sandbox {
namespace {

TEST(VmmLimits, FollowTheVmSize) {
  VmmLimits l = limits_for(2, 512);
  EXPECT_EQ(l.memory_bytes, (512ull + 64 + 64) << 20);
  EXPECT_EQ(l.cpu_quota_us, 300'000u);
  EXPECT_GT(l.max_tasks, 2u + 8);
}

}  // namespace
}  // namespace vmrt::sandbox
