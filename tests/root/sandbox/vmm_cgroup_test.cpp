// The VMM's cgroups on this host's hierarchies (cgroup v1 where the host
// binds the controllers there, as this one does; cgroup v2 behaviour is
// covered where a kernel of ours owns cgroup2: the rig): nested in a pod's
// cgroup, limits that follow the VM, the VMM starting inside, the runtime
// joining its leaf and leaving, and removal of exactly what was made.
#include "sandbox/vmm_cgroup.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "common/cgroup_files.h"
#include "common/error.h"
#include "common/process.h"
#include "common/tempdir.h"
#include "sandbox/cgroup_limits.h"

namespace vmrt::sandbox {
namespace {

namespace fs = std::filesystem;

std::string trimmed(const fs::path& file) {
  std::string s = read_cgroup_file(file);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string line_for(const std::string& proc_cgroup, const CgroupHierarchy& h) {
  auto p = cgroup_in(proc_cgroup, h);
  return p ? "/" + p->string() : "(none)";
}

struct VmmCgroupTest : ::testing::Test {
  std::vector<CgroupHierarchy> hs;
  // What kubelet would have made: <base>/pod1, with a CPU limit of 1.5.
  const fs::path base = "vmrt-test-" + std::to_string(::getpid());
  const fs::path pod = base / "pod1";
  const VmmLimits limits = limits_for(2, 256);

  void SetUp() override {
    try {
      hs = host_hierarchies();
    } catch (const Error& e) {
      GTEST_SKIP() << e.what();
    }
    if (hs.front().v2) GTEST_SKIP() << "cgroup v2 host: the rig covers it";
    for (const auto& h : hs) {
      for (const auto& dir : {h.mount / base, h.mount / pod}) {
        fs::create_directory(dir);
        for (const char* f : {"cpuset.cpus", "cpuset.mems"})
          if (h.has("cpuset")) write_cgroup_file(dir / f, read_cgroup_file(dir.parent_path() / f));
      }
      if (h.has("cpu")) write_cgroup_file(h.mount / pod / "cpu.cfs_quota_us", "150000");
    }
  }
  void TearDown() override {
    for (const auto& h : hs)
      for (const auto& dir :
           {h.mount / pod / "sbx" / "vmm", h.mount / pod / "sbx" / "shim", h.mount / pod / "sbx",
            h.mount / pod, h.mount / base / "vmm-x", h.mount / base})
        ::rmdir(dir.c_str());
  }
  const CgroupHierarchy& with(const char* controller) {
    for (const auto& h : hs)
      if (h.has(controller)) return h;
    throw Error(std::string("no ") + controller);
  }
};

TEST_F(VmmCgroupTest, PodPlacementNestsInThePodsCgroupInEveryHierarchy) {
  {
    VmmCgroup cg = VmmCgroup::create(pod_placement(pod / "sbx"), limits, hs);
    EXPECT_EQ(cg.path(), with("memory").mount / pod / "sbx" / "vmm");
    EXPECT_FALSE(cg.v2());
    EXPECT_EQ(cg.fd(), -1);
    EXPECT_EQ(cg.procs_fds().size(), hs.size());
    for (const auto& h : hs) {
      EXPECT_TRUE(fs::is_directory(h.mount / pod / "sbx" / "vmm")) << h.mount;
      EXPECT_TRUE(fs::is_directory(h.mount / pod / "sbx" / "shim")) << h.mount;
    }
    const fs::path vmm = pod / "sbx" / "vmm";
    EXPECT_EQ(trimmed(with("memory").mount / vmm / "memory.limit_in_bytes"),
              std::to_string(limits.memory_bytes));
    // No swap: memsw follows the limit.
    EXPECT_EQ(trimmed(with("memory").mount / vmm / "memory.memsw.limit_in_bytes"),
              std::to_string(limits.memory_bytes));
    // 3 CPUs asked for, the pod allows 1.5: v1 takes no more.
    EXPECT_EQ(trimmed(with("cpu").mount / vmm / "cpu.cfs_quota_us"), "150000");
    EXPECT_EQ(trimmed(with("pids").mount / vmm / "pids.max"), std::to_string(limits.max_tasks));

    // The VMM starts in its cgroup in every hierarchy, before exec.
    SpawnOptions o;
    o.cgroup_fd = cg.fd();
    o.join_cgroup_procs = cg.procs_fds();
    Subprocess child = Subprocess::spawn({"sleep", "100"}, o);
    std::string where = read_cgroup_file(fmt::format("/proc/{}/cgroup", child.pid()));
    for (const auto& h : hs) EXPECT_EQ(line_for(where, h), "/" + vmm.string()) << where;
    child.kill(SIGKILL);
    child.wait();

    // The runtime joins the shim leaf and leaves it again: in a child, so
    // that this test process stays where it was run.
    pid_t pid = ::fork();
    if (pid == 0) {
      int code = 0;
      try {
        std::string before = read_cgroup_file("/proc/self/cgroup");
        {
          JoinedCgroup joined(cg.shim_dirs());
          std::string in = read_cgroup_file("/proc/self/cgroup");
          for (const auto& h : hs)
            if (line_for(in, h) != "/" + (pod / "sbx" / "shim").string()) code = 2;
        }
        if (read_cgroup_file("/proc/self/cgroup") != before) code = 3;
      } catch (...) {
        code = 4;
      }
      ::_exit(code);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "2: not in the shim leaf, 3: not back, 4: error";
  }
  // All that was made is gone; the pod's cgroup (kubelet's) stays.
  for (const auto& h : hs) {
    EXPECT_FALSE(fs::exists(h.mount / pod / "sbx")) << h.mount;
    EXPECT_TRUE(fs::is_directory(h.mount / pod)) << h.mount;
  }
}

TEST_F(VmmCgroupTest, SetLimitsFollowsTheVmUpAndDown) {
  VmmCgroup cg = VmmCgroup::create(pod_placement(pod / "sbx"), limits, hs);
  const fs::path mem = with("memory").mount / pod / "sbx" / "vmm";
  const fs::path cpu = with("cpu").mount / pod / "sbx" / "vmm";
  VmmLimits bigger = limits_for(1, 1024);  // memsw must grow first
  cg.set_limits(bigger);
  EXPECT_EQ(trimmed(mem / "memory.limit_in_bytes"), std::to_string(bigger.memory_bytes));
  EXPECT_EQ(trimmed(mem / "memory.memsw.limit_in_bytes"), std::to_string(bigger.memory_bytes));
  EXPECT_EQ(trimmed(cpu / "cpu.cfs_quota_us"), "150000");  // 2 CPUs, clamped to the pod's 1.5
  write_cgroup_file(with("cpu").mount / pod / "cpu.cfs_quota_us", "-1");
  VmmLimits smaller = limits_for(1, 128);  // the limit must shrink first
  cg.set_limits(smaller);
  EXPECT_EQ(trimmed(mem / "memory.limit_in_bytes"), std::to_string(smaller.memory_bytes));
  EXPECT_EQ(trimmed(mem / "memory.memsw.limit_in_bytes"), std::to_string(smaller.memory_bytes));
  EXPECT_EQ(trimmed(cpu / "cpu.cfs_quota_us"), std::to_string(smaller.cpu_quota_us));
  EXPECT_EQ(trimmed(cpu / "cpu.cfs_period_us"), std::to_string(kCpuPeriodUs));
  EXPECT_EQ(trimmed(with("pids").mount / pod / "sbx" / "vmm" / "pids.max"),
            std::to_string(smaller.max_tasks));
}

TEST_F(VmmCgroupTest, SharedPlacementKeepsItsParentForTheOtherSandboxes) {
  {
    VmmCgroup cg = VmmCgroup::create(shared_placement(base.string(), "x"), limits, hs);
    EXPECT_TRUE(cg.shim_dirs().empty());
    for (const auto& h : hs) EXPECT_TRUE(fs::is_directory(h.mount / base / "vmm-x")) << h.mount;
  }
  for (const auto& h : hs) {
    EXPECT_FALSE(fs::exists(h.mount / base / "vmm-x")) << h.mount;
    EXPECT_TRUE(fs::is_directory(h.mount / base)) << h.mount;
  }
}

TEST_F(VmmCgroupTest, ALeftCgroupIsRemovedFromItsRecordAndNothingElse) {
  TempDir sandbox_dir("left-cgroup");
  const fs::path not_a_cgroup = sandbox_dir.path() / "keep";
  fs::create_directory(not_a_cgroup);
  std::vector<fs::path> left;
  {
    VmmCgroup cg = VmmCgroup::create(pod_placement(pod / "sbx"), limits, hs);
    left = cg.removal_order();
  }
  // As a runtime that was killed leaves them (made again by hand: a
  // VmmCgroup always removes its own).
  for (const auto& h : hs)
    for (const auto& d : {pod / "sbx", pod / "sbx" / "vmm", pod / "sbx" / "shim"})
      fs::create_directory(h.mount / d);
  left.push_back(not_a_cgroup);
  record_cgroup(sandbox_dir.path(), left);
  remove_left_cgroup(sandbox_dir.path());
  for (const auto& h : hs) {
    EXPECT_FALSE(fs::exists(h.mount / pod / "sbx")) << h.mount;
    EXPECT_TRUE(fs::is_directory(h.mount / pod)) << h.mount;
  }
  EXPECT_TRUE(fs::is_directory(not_a_cgroup));
}

TEST_F(VmmCgroupTest, ALeftVmmCgroupIsReplaced) {
  for (const auto& h : hs)
    for (const auto& d : {pod / "sbx", pod / "sbx" / "vmm"}) fs::create_directory(h.mount / d);
  VmmCgroup cg = VmmCgroup::create(pod_placement(pod / "sbx"), limits, hs);
  EXPECT_EQ(trimmed(cg.path() / "memory.limit_in_bytes"), std::to_string(limits.memory_bytes));
}

}  // namespace
}  // namespace vmrt::sandbox
