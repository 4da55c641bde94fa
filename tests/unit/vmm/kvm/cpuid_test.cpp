#include "vmm/kvm/cpuid.h"

#include <gtest/gtest.h>

namespace vmrt::vmm {
namespace {

kvm_cpuid_entry2 leaf(uint32_t function, uint32_t index = 0) {
  kvm_cpuid_entry2 e{};
  e.function = function;
  e.index = index;
  return e;
}

const kvm_cpuid_entry2& find(const std::vector<kvm_cpuid_entry2>& v, uint32_t f, uint32_t i = 0) {
  for (const auto& e : v)
    if (e.function == f && e.index == i) return e;
  throw std::runtime_error("leaf missing");
}

TEST(Cpuid, SetsTheHypervisorBitAndApicId) {
  auto out = vcpu_cpuid({leaf(1)}, 3, 4);
  const auto& l1 = find(out, 1);
  EXPECT_TRUE(l1.ecx & (1u << 31));
  EXPECT_EQ(l1.ebx >> 24, 3u);
  EXPECT_EQ((l1.ebx >> 16) & 0xff, 4u);
  EXPECT_TRUE(l1.edx & (1u << 28));
}

TEST(Cpuid, AdvertisesTheTscDeadlineTimerOnlyWhenKvmHasIt) {
  EXPECT_FALSE(find(vcpu_cpuid({leaf(1)}, 0, 1), 1).ecx & (1u << 24));
  EXPECT_TRUE(find(vcpu_cpuid({leaf(1)}, 0, 1, {.tsc_deadline_timer = true}), 1).ecx & (1u << 24));
}

TEST(Cpuid, OneVcpuHasNoHyperThreadingFlag) {
  kvm_cpuid_entry2 l1 = leaf(1);
  l1.edx = 1u << 28;
  auto out = vcpu_cpuid({l1}, 0, 1);
  EXPECT_FALSE(find(out, 1).edx & (1u << 28));
}

TEST(Cpuid, TopologyLeavesDescribeOneCorePerVcpu) {
  auto out = vcpu_cpuid({leaf(0xb, 0), leaf(0xb, 1), leaf(0xb, 2), leaf(4)}, 5, 8);
  EXPECT_EQ(find(out, 0xb, 0).ebx, 1u);
  EXPECT_EQ(find(out, 0xb, 1).ebx, 8u);
  EXPECT_EQ(find(out, 0xb, 1).eax, 3u) << "8 cores need 3 APIC ID bits";
  EXPECT_EQ(find(out, 0xb, 2).ebx, 0u);
  EXPECT_EQ(find(out, 0xb, 1).edx, 5u);
  EXPECT_EQ(find(out, 4).eax >> 26, 7u);
}

}  // namespace
}  // namespace vmrt::vmm
