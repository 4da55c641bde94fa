#include "sandbox/vm_size.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace vmrt::sandbox {
namespace {

using nlohmann::json;
constexpr uint64_t kMib = 1024 * 1024;

RuntimeConfig base(uint32_t vcpus = 1, uint64_t memory_mib = 256) {
  RuntimeConfig c;
  c.vcpus = vcpus;
  c.memory_mib = memory_mib;
  c.annotations.max_vcpus = 4;
  c.annotations.max_memory_mib = 8192;
  return c;
}

TEST(VmSize, APodWithoutLimitsGetsTheBase) {
  EXPECT_EQ(size_for(base(), {}), (VmSize{1, 256}));
  EXPECT_EQ(size_for(base(2, 512), {}), (VmSize{2, 512}));
}

TEST(VmSize, LimitsComeOnTopOfTheBaseMemoryInWholeBlocks) {
  EXPECT_EQ(size_for(base(), {.memory_bytes = 1024 * kMib}).memory_mib, 256u + 1024);
  // One byte over a block takes another block.
  EXPECT_EQ(size_for(base(), {.memory_bytes = 1024 * kMib + 1}).memory_mib, 256u + 1152);
  EXPECT_EQ(size_for(base(), {.memory_bytes = 1}).memory_mib, 256u + 128);
}

TEST(VmSize, CpuLimitsRoundUpToWholeVcpusAndNeverBelowTheBase) {
  EXPECT_EQ(size_for(base(), {.millicpus = 1500}).vcpus, 2u);
  EXPECT_EQ(size_for(base(), {.millicpus = 2000}).vcpus, 2u);
  EXPECT_EQ(size_for(base(), {.millicpus = 1}).vcpus, 1u);
  EXPECT_EQ(size_for(base(3), {.millicpus = 1500}).vcpus, 3u);
}

TEST(VmSize, TheOperatorsMaximaCapTheVm) {
  EXPECT_EQ(size_for(base(), {.memory_bytes = 64ull << 30, .millicpus = 64000}), (VmSize{4, 8192}));
  // Saturated sums of hostile limits still cap, not wrap.
  Demand d{.memory_bytes = UINT64_MAX - 5, .millicpus = UINT64_MAX - 5};
  d += d;
  EXPECT_EQ(d.memory_bytes, UINT64_MAX);
  EXPECT_EQ(size_for(base(), d), (VmSize{4, 8192}));
}

TEST(VmSize, CapacityIsTheMaximaInWholeBlocksNeverBelowTheBase) {
  EXPECT_EQ(capacity_of(base()), (VmCapacity{4, 7936}));
  RuntimeConfig c = base(8, 1000);
  c.annotations.max_vcpus = 2;
  c.annotations.max_memory_mib = 1200;  // 200 MiB above the base: one block
  EXPECT_EQ(capacity_of(c), (VmCapacity{8, 128}));
  EXPECT_EQ(size_for(c, {.memory_bytes = 1ull << 30, .millicpus = 1500}), (VmSize{8, 1128}));
  c.annotations.max_memory_mib = 100;
  EXPECT_EQ(capacity_of(c).hotplug_mib, 0u);
}

TEST(VmSize, DemandOfOciResourcesReadsLimitsOnly) {
  EXPECT_EQ(demand_of(json::parse(R"({"memory":{"limit":536870912},
                                       "cpu":{"quota":150000,"period":100000}})")),
            (Demand{512 * kMib, 1500}));
  // Unlimited, absent, shares-only and reservations ask for nothing.
  EXPECT_EQ(demand_of(json::parse(R"({"memory":{"limit":-1,"reservation":1000},
                                       "cpu":{"quota":-1,"shares":1024}})")),
            Demand{});
  EXPECT_EQ(demand_of(json::parse(R"({"cpu":{"shares":512}})")), Demand{});
  EXPECT_EQ(demand_of(json()), Demand{});
  // A quota without a period is per the kernel's 100 ms.
  EXPECT_EQ(demand_of(json::parse(R"({"cpu":{"quota":50000}})")).millicpus, 500u);
  // Rounded up: 1 us over a core is more than a core.
  EXPECT_EQ(demand_of(json::parse(R"({"cpu":{"quota":100001,"period":100000}})")).millicpus, 1001u);
}

TEST(VmSize, DemandOfMalformedResourcesIsAnErrorNamingTheField) {
  try {
    demand_of(json::parse(R"({"memory":{"limit":"1g"}})"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("resources.memory.limit"), std::string::npos);
  }
  EXPECT_THROW(demand_of(json::parse(R"({"cpu":{"quota":1000,"period":-5}})")), Error);
  EXPECT_THROW(demand_of(json::parse(R"([1])")), Error);
}

TEST(VmSize, AnUpdateReplacesOnlyTheLimitsItNames) {
  Demand before{512 * kMib, 1500};
  EXPECT_EQ(demand_after_update(before, json::parse(R"({"memory":{"limit":1073741824}})")),
            (Demand{1024 * kMib, 1500}));
  EXPECT_EQ(demand_after_update(before, json::parse(R"({"cpu":{"quota":250000}})")),
            (Demand{512 * kMib, 2500}));
  // -1: the limit is lifted.
  EXPECT_EQ(demand_after_update(before, json::parse(R"({"memory":{"limit":-1}})")),
            (Demand{0, 1500}));
  EXPECT_EQ(demand_after_update(before, json::parse(R"({"pids":{"limit":10}})")), before);
  EXPECT_EQ(max_of({1, 5}, {3, 2}), (Demand{3, 5}));
}

TEST(VmSize, PodDemandReadsContainerdsSandboxAnnotations) {
  std::map<std::string, std::string> a = {{"io.kubernetes.cri.sandbox-memory", "1073741824"},
                                          {"io.kubernetes.cri.sandbox-cpu-quota", "150000"},
                                          {"io.kubernetes.cri.sandbox-cpu-period", "100000"},
                                          {"io.kubernetes.cri.sandbox-cpu-shares", "1536"},
                                          {"unrelated", "x"}};
  EXPECT_EQ(pod_demand(a), (Demand{1024 * kMib, 1500}));
  EXPECT_EQ(size_for(base(), pod_demand(a)), (VmSize{2, 1280}));
  // A pod without limits: containerd writes 0 (and -1 quota for none).
  EXPECT_EQ(pod_demand({{"io.kubernetes.cri.sandbox-memory", "0"},
                        {"io.kubernetes.cri.sandbox-cpu-quota", "-1"}}),
            Demand{});
  EXPECT_EQ(pod_demand({}), Demand{});
}

TEST(VmSize, PodDemandOfAMalformedAnnotationNamesIt) {
  try {
    pod_demand({{"io.kubernetes.cri.sandbox-memory", "1Gi"}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("io.kubernetes.cri.sandbox-memory"), std::string::npos);
  }
  EXPECT_THROW(pod_demand({{"io.kubernetes.cri.sandbox-cpu-quota", "99999999999999999999"}}),
               Error);
}

}  // namespace
}  // namespace vmrt::sandbox
