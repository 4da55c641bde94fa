// Which cgroup hierarchies a sandbox's cgroups go in, and the VMM's limits.
#include "sandbox/cgroup_hierarchy.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "sandbox/cgroup_limits.h"
#include "sandbox/vmm_cgroup.h"

namespace vmrt::sandbox {
namespace {

// A hybrid host: every controller on v1, an empty cgroup2 beside them, and
// a container's view of one hierarchy (not its root) that must not count.
constexpr const char* kHybrid =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 31 0:32 /docker/x /mnt/memory rw - cgroup cgroup rw,memory\n";

TEST(CgroupHierarchies, MountsAtTheirRootsWithTheirControllers) {
  auto hs = parse_cgroup_mounts(kHybrid);
  ASSERT_EQ(hs.size(), 5u);
  EXPECT_EQ(hs[0].mount, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(hs[0].controllers, (std::set<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(hs[3].controllers, (std::set<std::string>{"name=systemd"}));
  EXPECT_TRUE(hs[4].v2);
  EXPECT_TRUE(hs[4].has("memory"));  // v2: whatever its root gives
}

TEST(CgroupHierarchies, HybridUsesV1UnifiedUsesCgroup2) {
  auto hs = parse_cgroup_mounts(kHybrid);
  auto v1 = choose_hierarchies(hs, false);
  EXPECT_EQ(v1.size(), 4u);
  for (const auto& h : v1) EXPECT_FALSE(h.v2);
  auto v2 = choose_hierarchies(hs, true);
  ASSERT_EQ(v2.size(), 1u);
  EXPECT_EQ(v2[0].mount, "/sys/fs/cgroup/unified");
}

TEST(CgroupHierarchies, AMissingControllerIsAClearError) {
  auto hs = parse_cgroup_mounts(
      "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n");
  try {
    choose_hierarchies(hs, false);
    FAIL() << "no cpu controller accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cpu controller"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("jail.pod_cgroup"), std::string::npos) << e.what();
  }
}

TEST(CgroupHierarchies, AProcessCgroupPerHierarchy) {
  auto hs = parse_cgroup_mounts(kHybrid);
  const std::string self =
      "9:name=systemd:/user.slice\n4:memory:/kubepods/pod1\n2:cpu,cpuacct:/x\n0::/init.scope\n";
  EXPECT_EQ(cgroup_in(self, hs[0]), "x");
  EXPECT_EQ(cgroup_in(self, hs[1]), "kubepods/pod1");
  EXPECT_EQ(cgroup_in(self, hs[2]), std::nullopt);  // pids: not listed
  EXPECT_EQ(cgroup_in(self, hs[3]), "user.slice");
  EXPECT_EQ(cgroup_in(self, hs[4]), "init.scope");
}

TEST(VmmPlacement, PodOrShared) {
  auto pod = pod_placement("kubepods/burstable/pod1/abc");
  EXPECT_EQ(pod.parent, "kubepods/burstable/pod1/abc");
  EXPECT_EQ(pod.vmm, "vmm");
  EXPECT_EQ(pod.shim, "shim");
  EXPECT_TRUE(pod.owns_parent);
  auto shared = shared_placement("vmrt", "abc");
  EXPECT_EQ(shared.parent, "vmrt");
  EXPECT_EQ(shared.vmm, "vmm-abc");
  EXPECT_EQ(shared.shim, "");
  EXPECT_FALSE(shared.owns_parent);  // other sandboxes' VMMs are there too
}

TEST(VmmLimits, V1CpuQuotaStaysWithinTheAncestors) {
  // A pod limited to 1.5 CPUs (at a 50 ms period) above one with none.
  EXPECT_EQ(clamp_cpu_quota(300'000, {{-1, 100'000}, {75'000, 50'000}}), 150'000u);
  EXPECT_EQ(clamp_cpu_quota(300'000, {{-1, 100'000}}), 300'000u);
  EXPECT_EQ(clamp_cpu_quota(100'000, {{400'000, 100'000}}), 100'000u);
}

}  // namespace
}  // namespace vmrt::sandbox
