// linux.cgroupsPath read as runc reads it, and the values it refuses.
#include "sandbox/cgroup_path.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace vmrt::sandbox {
namespace {

std::string error_of(const std::string& value) {
  try {
    cgroup_of_cgroups_path(value);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CgroupsPath, CgroupfsFormIsThePathBelowTheRoot) {
  EXPECT_EQ(cgroup_of_cgroups_path("/kubepods/burstable/pod1234/abcdef"),
            "kubepods/burstable/pod1234/abcdef");
  EXPECT_EQ(cgroup_of_cgroups_path("/docker/abc"), "docker/abc");
  // Relative: below the root as well.
  EXPECT_EQ(cgroup_of_cgroups_path("vmrt/abc"), "vmrt/abc");
}

TEST(CgroupsPath, SystemdFormExpandsTheSliceAndNamesAScope) {
  EXPECT_EQ(cgroup_of_cgroups_path("kubepods-burstable-pod1234.slice:cri-containerd:abc"),
            "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/"
            "cri-containerd-abc.scope");
  // runc's defaults: system.slice for no slice, "<name>.scope" for no prefix.
  EXPECT_EQ(cgroup_of_cgroups_path(":docker:abc"), "system.slice/docker-abc.scope");
  EXPECT_EQ(cgroup_of_cgroups_path("machine.slice::abc"), "machine.slice/abc.scope");
  // A slice as the name is a unit of its own; "-.slice" is the root.
  EXPECT_EQ(cgroup_of_cgroups_path("a-b.slice:x:a-b-c.slice"), "a.slice/a-b.slice/a-b-c.slice");
  EXPECT_EQ(cgroup_of_cgroups_path("-.slice:x:abc"), "x-abc.scope");
}

TEST(CgroupsPath, ExpandSliceFollowsSystemd) {
  EXPECT_EQ(expand_slice("a.slice"), "a.slice");
  EXPECT_EQ(expand_slice("a-b-c.slice"), "a.slice/a-b.slice/a-b-c.slice");
  EXPECT_EQ(expand_slice("-.slice"), "");
  for (const char* bad : {"a--b.slice", "-a.slice", "a-.slice", "a", ".slice", "a/b.slice"})
    EXPECT_THROW(expand_slice(bad), Error) << bad;
}

TEST(CgroupsPath, HostileValuesAreRefusedByName) {
  for (const char* bad : {"", "/", "/a/../../etc", "..", "/a/..", "/a/./b", "a//b", "/a/b/",
                          "/a\nb", "a-b.slice:x:../../etc", "a-b.slice:x:y/z", "../x.slice:p:n",
                          "a.slice:p:", "a.slice:p:n:extra", "a.slice:p", "nota-slice:p:n"}) {
    std::string what = error_of(bad);
    EXPECT_NE(what.find("cgroupsPath"), std::string::npos) << "\"" << bad << "\": " << what;
  }
  // A unit name ends in .scope or .slice: ".." in it stays one step.
  EXPECT_EQ(cgroup_of_cgroups_path("a.slice:p:.."), "a.slice/p-...scope");
  EXPECT_NE(error_of("/" + std::string(300, 'a')).find("no name"), std::string::npos);
  std::string deep;
  for (int i = 0; i < 2100; ++i) deep += "/a";
  EXPECT_NE(error_of(deep).find("longer than a path"), std::string::npos);
}

}  // namespace
}  // namespace vmrt::sandbox
