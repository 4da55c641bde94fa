// linux.resources -> cgroup v2 file writes, and the container's cgroup path.

#include "agent/container/cgroup_resources.h"

#include <gtest/gtest.h>

#include "tests/support/error_text.h"

namespace vmrt::agent {
namespace {

using test::error_text;
using W = std::vector<CgroupWrite>;

oci::Resources parse(const nlohmann::json& resources) {
  nlohmann::json j = {{"ociVersion", "1.0.2"},
                      {"root", {{"path", "rootfs"}}},
                      {"linux", {{"resources", resources}}}};
  return *oci::parse_spec(j, oci::Purpose::Inspect).linux.resources;
}

TEST(CgroupResources, MemoryCpuPids) {
  W w = plan_resources(
      parse({{"memory", {{"limit", 1048576}, {"reservation", 524288}, {"swap", 3145728}}},
             {"cpu",
              {{"shares", 1024},
               {"quota", 50000},
               {"period", 200000},
               {"cpus", "0-1"},
               {"mems", "0"},
               {"idle", 0}}},
             {"pids", {{"limit", 100}}}}));
  EXPECT_EQ(w, (W{{"memory.max", "1048576"},
                  {"memory.low", "524288"},
                  {"memory.swap.max", "2097152"},  // swap is memory + swap in the spec
                  {"cpu.weight", "39"},            // runc's shares -> weight mapping
                  {"cpu.max", "50000 200000"},
                  {"cpu.idle", "0"},
                  {"cpuset.cpus", "0-1"},
                  {"cpuset.mems", "0"},
                  {"pids.max", "100"}}));
  EXPECT_EQ(controllers_of(w), (std::set<std::string>{"memory", "cpu", "cpuset", "pids"}));
}

TEST(CgroupResources, Unlimited) {
  W w = plan_resources(parse({{"memory", {{"limit", -1}, {"swap", -1}}},
                              {"cpu", {{"quota", -1}}},
                              {"pids", {{"limit", -1}}}}));
  EXPECT_EQ(w, (W{{"memory.max", "max"},
                  {"memory.swap.max", "max"},
                  {"cpu.max", "max 100000"},
                  {"pids.max", "max"}}));
  EXPECT_TRUE(plan_resources(parse({{"memory", {{"limit", 0}}}})).empty());  // 0: unset
}

TEST(CgroupResources, BlockIoHugetlbUnified) {
  W w = plan_resources(
      parse({{"blockIO",
              {{"weight", 500},
               {"weightDevice", {{{"major", 8}, {"minor", 0}, {"weight", 1000}}}},
               {"throttleReadBpsDevice", {{{"major", 8}, {"minor", 0}, {"rate", 1048576}}}},
               {"throttleWriteIOPSDevice", {{{"major", 8}, {"minor", 16}, {"rate", 100}}}}}},
             {"hugepageLimits", {{{"pageSize", "2MB"}, {"limit", 4194304}}}},
             {"unified", {{"memory.high", "1000000"}, {"io.bfq.weight", "50"}}}}));
  EXPECT_EQ(w, (W{{"io.weight", "default 4950"},
                  {"io.weight", "8:0 10000"},
                  {"io.max", "8:0 rbps=1048576"},
                  {"io.max", "8:16 wiops=100"},
                  {"hugetlb.2MB.max", "4194304"},
                  {"io.bfq.weight", "50"},
                  {"memory.high", "1000000"}}));
}

// Docker's spec has "blockIO": {"weight": 0} in every container: unset.
TEST(CgroupResources, ABlockIoWeightOfZeroIsUnsetAsDockerWritesIt) {
  EXPECT_TRUE(
      plan_resources(parse({{"blockIO",
                             {{"weight", 0},
                              {"weightDevice", {{{"major", 8}, {"minor", 0}, {"weight", 0}}}}}}}))
          .empty());
}

TEST(CgroupResources, Errors) {
  auto err = [](const nlohmann::json& r) { return error_text([&] { plan_resources(parse(r)); }); };
  EXPECT_EQ(err({{"memory", {{"limit", 200}, {"swap", 100}}}}),
            "linux.resources.memory.swap: 100 is less than memory.limit 200 (swap counts memory "
            "plus swap)");
  EXPECT_EQ(err({{"memory", {{"swap", 100}}}}),
            "linux.resources.memory.swap: a swap limit needs a memory limit");
  EXPECT_EQ(err({{"memory", {{"limit", -2}}}}),
            "linux.resources.memory.limit: -2 is not a limit (use -1 for none)");
  EXPECT_EQ(err({{"memory", {{"kernel", 1000}}}}),
            "linux.resources.memory.kernel: kernel memory limits do not exist in cgroup v2");
  EXPECT_EQ(err({{"cpu", {{"realtimeRuntime", 1000}}}}),
            "linux.resources.cpu: realtime CPU limits do not exist in cgroup v2");
  EXPECT_EQ(err({{"blockIO", {{"weight", 5}}}}),
            "linux.resources.blockIO.weight: 5 is outside 10..1000");
  EXPECT_EQ(err({{"hugepageLimits", {{{"pageSize", "huge"}, {"limit", 1}}}}}),
            "linux.resources.hugepageLimits[0].pageSize: \"huge\" is not a page size like 2MB");
  EXPECT_EQ(err({{"unified", {{"../../etc/passwd", "x"}}}}),
            "linux.resources.unified: \"../../etc/passwd\" is not a cgroup v2 interface file name");
  EXPECT_EQ(err({{"unified", {{"cgroup.procs", "1"}}}}),
            "linux.resources.unified: \"cgroup.procs\" is the runtime's to manage");
  EXPECT_EQ(err({{"network", {{"classID", 1}}}}),
            "linux.resources.network: net_cls and net_prio do not exist in cgroup v2");
}

TEST(CgroupPath, FromCgroupsPath) {
  EXPECT_EQ(cgroup_relative_path("", "c1"), "vmrt/c1");
  EXPECT_EQ(cgroup_relative_path("/k8s.io/abc", "c1"), "k8s.io/abc");
  EXPECT_EQ(cgroup_relative_path("pods/x/", "c1"), "pods/x");
  EXPECT_EQ(cgroup_relative_path("system.slice:cri:abc", "c1"), "system.slice/cri-abc.scope");
  EXPECT_EQ(error_text([] { cgroup_relative_path("/a/../../b", "c1"); }),
            "linux.cgroupsPath: \"/a/../../b\" climbs out of the cgroup root");
  EXPECT_EQ(error_text([] { cgroup_relative_path("/", "c1"); }),
            "linux.cgroupsPath: \"/\" names the cgroup root");
  EXPECT_EQ(error_text([] { cgroup_relative_path("a:b", "c1"); }),
            "linux.cgroupsPath: \"a:b\" is neither a path nor slice:prefix:name");
}

}  // namespace
}  // namespace vmrt::agent
