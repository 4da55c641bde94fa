// A sandbox given a pod's cgroupsPath on this host's cgroups (v1 here):
// its VMM (a stand-in that reports where it runs and exits) starts in
// <cgroupsPath>/vmm, and all the sandbox made is removed with it, the pod's
// own cgroup kept; a cgroupsPath that escapes is refused before anything.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/cgroup_files.h"
#include "common/tempdir.h"
#include "sandbox/sandbox.h"
#include "tests/support/private_mounts.h"

namespace vmrt::sandbox {
namespace {

namespace fs = std::filesystem;
using test::write_file;
using ::testing::HasSubstr;

class SandboxCgroup : public test::PrivateMounts {
 protected:
  void SetUp() override {
    PrivateMounts::SetUp();
    try {
      hs = host_hierarchies();
    } catch (const Error& e) {
      GTEST_SKIP() << e.what();
    }
    if (hs.front().v2) GTEST_SKIP() << "cgroup v2 host: the rig covers it";
    // The pod's cgroup, as kubelet makes it.
    for (const auto& h : hs)
      for (const auto& d : {h.mount / base, h.mount / pod}) {
        fs::create_directory(d);
        for (const char* f : {"cpuset.cpus", "cpuset.mems"})
          if (h.has("cpuset")) write_cgroup_file(d / f, read_cgroup_file(d.parent_path() / f));
      }
    fs::create_directories(sandbox_dir);
    o.id = "t";
    o.dir = sandbox_dir;
    o.config = default_config();
    o.config.template_vm = false;
    o.config.boot_timeout = std::chrono::seconds(30);
    o.config.vmm = dir.path() / "fake-vmm";
    write_file(o.config.vmm,
               "#!/bin/sh\ncat /proc/self/cgroup > " + report.string() + "\nexit 3\n");
    ASSERT_EQ(::chmod(o.config.vmm.c_str(), 0755), 0);
  }
  void TearDown() override {
    for (const auto& h : hs)
      for (const auto& d : {pod / "sbx" / "vmm", pod / "sbx" / "shim", pod / "sbx", pod, base})
        ::rmdir((h.mount / d).c_str());
  }

  std::string start_error() {
    try {
      Sandbox::start(std::move(o));
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  std::vector<CgroupHierarchy> hs;
  const fs::path base = "vmrt-sbx-test-" + std::to_string(::getpid());
  const fs::path pod = base / "pod1";
  TempDir dir{"vmrt-sbx-cgroup"};
  fs::path sandbox_dir = dir.path() / "sb";
  fs::path report = dir.path() / "vmm-cgroup";
  SandboxOptions o;
};

TEST_F(SandboxCgroup, TheVmmStartsInThePodsCgroupAndWhatWasMadeGoes) {
  o.pod_cgroup = "/" + (pod / "sbx").string();
  EXPECT_THAT(start_error(), HasSubstr("vmrt-vmm exited with status 3"));
  std::string where = read_cgroup_file(report);
  for (const auto& h : hs)
    EXPECT_EQ(cgroup_in(where, h), pod / "sbx" / "vmm") << h.mount << "\n" << where;
  for (const auto& h : hs) {
    EXPECT_FALSE(fs::exists(h.mount / pod / "sbx")) << h.mount;
    EXPECT_TRUE(fs::is_directory(h.mount / pod)) << h.mount;
  }
}

TEST_F(SandboxCgroup, WithoutPodCgroupTheSharedParentIsUsed) {
  o.pod_cgroup = "/" + (pod / "sbx").string();
  o.config.pod_cgroup = false;
  o.config.cgroup_parent = base.string();
  EXPECT_THAT(start_error(), HasSubstr("vmrt-vmm exited with status 3"));
  std::string where = read_cgroup_file(report);
  for (const auto& h : hs) EXPECT_EQ(cgroup_in(where, h), base / "vmm-t") << h.mount;
  for (const auto& h : hs) EXPECT_FALSE(fs::exists(h.mount / pod / "sbx")) << h.mount;
}

TEST_F(SandboxCgroup, AnEscapingCgroupsPathIsRefusedBeforeAnything) {
  o.pod_cgroup = "/" + (pod / "../../../etc").string();
  EXPECT_THAT(start_error(), HasSubstr("linux.cgroupsPath"));
  EXPECT_FALSE(fs::exists(report)) << "the VMM was started";
  EXPECT_TRUE(fs::is_empty(sandbox_dir));
}

}  // namespace
}  // namespace vmrt::sandbox
