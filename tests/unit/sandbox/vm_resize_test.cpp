#include "sandbox/vm_resize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "common/error.h"

namespace vmrt::sandbox {
namespace {

// A guest that plugs or unplugs one 128 MiB block each time the host waits,
// and cannot unplug below `floor_mib`.
struct FakeVm {
  MemoryStatus mem{.region_mib = 1024};
  uint64_t floor_mib = 0;
  uint32_t online = 1, present = 4;
  std::vector<std::string> log;  // the levers pulled, in order

  VmLevers levers() {
    VmLevers l;
    l.online_cpus = [this](uint32_t n) {
      log.push_back("cpus " + std::to_string(n));
      online = std::min(n, present);
      return online;
    };
    l.memory = [this](std::optional<uint64_t> req) {
      if (req) {
        log.push_back("request " + std::to_string(*req));
        mem.requested_mib = *req;
      }
      return mem;
    };
    l.set_limits = [this](const VmmLimits& lim) {
      log.push_back("limit");
      limits.push_back(lim);
    };
    l.wait = [this] {
      if (mem.plugged_mib < mem.requested_mib)
        mem.plugged_mib += 128;
      else if (mem.plugged_mib > std::max(mem.requested_mib, floor_mib))
        mem.plugged_mib -= 128;
    };
    return l;
  }
  std::vector<VmmLimits> limits;
};

constexpr auto kLong = std::chrono::seconds(30);

TEST(VmResize, GrowingRaisesTheLimitsBeforeTheGuestPlugs) {
  FakeVm vm;
  Resized r = resize_vm(vm.levers(), 256, {2, 256 + 512}, kLong);
  EXPECT_EQ(r.size, (VmSize{2, 768}));
  EXPECT_EQ(r.shortfall, "");
  ASSERT_GE(vm.log.size(), 3u);
  EXPECT_EQ(vm.log[0], "limit");
  EXPECT_EQ(vm.limits.front(), limits_for(2, 768));
  EXPECT_EQ(vm.limits.back(), limits_for(2, 768));
  EXPECT_EQ(vm.mem.plugged_mib, 512u);
}

TEST(VmResize, ShrinkingLowersTheLimitsToWhatTheGuestGaveBack) {
  FakeVm vm;
  vm.mem.requested_mib = vm.mem.plugged_mib = 768;
  vm.online = 3;
  vm.floor_mib = 256;  // pages it cannot move
  // It waits the whole timeout for what will not come.
  Resized r = resize_vm(vm.levers(), 256, {1, 256}, std::chrono::milliseconds(50));
  EXPECT_EQ(r.size, (VmSize{1, 512}));
  EXPECT_NE(r.shortfall.find("could free only down to 256 MiB"), std::string::npos) << r.shortfall;
  // The limit held the memory still plugged while unplugging, then fell to
  // what stayed, never below it.
  EXPECT_EQ(vm.limits.front(), limits_for(1, 256 + 768));
  EXPECT_EQ(vm.limits.back(), limits_for(1, 512));
  EXPECT_EQ(vm.mem.requested_mib, 0u);
}

TEST(VmResize, AGuestTooSlowToPlugIsAShortfallNotAnError) {
  FakeVm vm;
  Resized r = resize_vm(vm.levers(), 256, {1, 256 + 1024}, std::chrono::milliseconds(0));
  EXPECT_LT(r.size.memory_mib, 256u + 1024);
  EXPECT_NE(r.shortfall.find("of 1024 MiB in time"), std::string::npos) << r.shortfall;
  // The limits stay at what is plugged, not at what was asked.
  EXPECT_EQ(vm.limits.back(), limits_for(1, r.size.memory_mib));
}

TEST(VmResize, FewerCpusOnlineThanAskedIsReported) {
  FakeVm vm;
  vm.present = 2;
  Resized r = resize_vm(vm.levers(), 256, {4, 256}, kLong);
  EXPECT_EQ(r.size.vcpus, 2u);
  EXPECT_NE(r.shortfall.find("2 vCPUs online of 4"), std::string::npos) << r.shortfall;
}

TEST(VmResize, TheSameSizeTouchesNoMemory) {
  FakeVm vm;
  vm.mem.requested_mib = vm.mem.plugged_mib = 256;
  Resized r = resize_vm(vm.levers(), 256, {1, 512}, kLong);
  EXPECT_EQ(r.size, (VmSize{1, 512}));
  for (const auto& l : vm.log) EXPECT_EQ(l.rfind("request", 0), std::string::npos) << l;
}

TEST(VmResize, MoreThanTheRegionIsAnError) {
  FakeVm vm;
  EXPECT_THROW(resize_vm(vm.levers(), 256, {1, 256 + 2048}, kLong), Error);
  EXPECT_TRUE(vm.log.empty());
}

TEST(VmResize, WithoutACgroupOnlyTheVmChanges) {
  FakeVm vm;
  VmLevers l = vm.levers();
  l.set_limits = nullptr;
  EXPECT_EQ(resize_vm(l, 256, {2, 384}, kLong).size, (VmSize{2, 384}));
}

// An update holds the old and the new limits while the container's cgroup
// changes, so that neither a growing nor a shrinking one ever has less VM
// than its cgroup may use; then the VM fits the new ones.
TEST(VmResize, AnUpdateHoldsBothLimitsWhileTheCgroupChanges) {
  std::vector<std::string> steps;
  auto resize = [&](const Demand& d) {
    steps.push_back("resize " + std::to_string(d.memory_bytes >> 20) + " " +
                    std::to_string(d.millicpus));
  };
  auto apply = [&] { steps.push_back("apply"); };
  Demand before{512u << 20, 1000};
  Demand after =
      update_limits(before,
                    nlohmann::json::parse(
                        R"({"memory":{"limit":268435456},"cpu":{"quota":200000,"period":100000}})"),
                    resize, apply);
  EXPECT_EQ(after, (Demand{256u << 20, 2000}));
  EXPECT_THAT(steps, ::testing::ElementsAre("resize 512 2000", "apply", "resize 256 2000"));
}

TEST(VmResize, AnUpdateTheCgroupRefusesLeavesTheVmHoldingBoth) {
  int resizes = 0;
  auto resize = [&](const Demand&) { ++resizes; };
  auto apply = [] { fail("the guest refused"); };
  EXPECT_THROW(
      update_limits({}, nlohmann::json::parse(R"({"memory":{"limit":268435456}})"), resize, apply),
      Error);
  EXPECT_EQ(resizes, 1);  // never shrunk below what the cgroup may still use
}

}  // namespace
}  // namespace vmrt::sandbox
