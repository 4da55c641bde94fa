// vCPU exits by reason (the control socket's "vcpu_exit_reasons"): KVM's
// exit reasons map to the names the monitor shows, and a vCPU's total is
// the sum of its reasons.
#include "vmm/machine/exit_counters.h"

#include <gtest/gtest.h>
#include <linux/kvm.h>

#include <set>
#include <string>

namespace vmrt::vmm {
namespace {

TEST(ExitCounters, KvmExitReasonsByName) {
  EXPECT_STREQ(exit_reason_name(classify_exit(KVM_EXIT_IO)), "io");
  EXPECT_STREQ(exit_reason_name(classify_exit(KVM_EXIT_MMIO)), "mmio");
  EXPECT_STREQ(exit_reason_name(classify_exit(KVM_EXIT_HLT)), "hlt");
  EXPECT_STREQ(exit_reason_name(classify_exit(KVM_EXIT_INTR)), "intr");
  EXPECT_STREQ(exit_reason_name(classify_exit(KVM_EXIT_SHUTDOWN)), "shutdown");
  EXPECT_STREQ(exit_reason_name(classify_exit(KVM_EXIT_SYSTEM_EVENT)), "system_event");
  EXPECT_STREQ(exit_reason_name(classify_exit(KVM_EXIT_FAIL_ENTRY)), "other");
  EXPECT_STREQ(exit_reason_name(classify_exit(0xffffffff)), "other");
  EXPECT_STREQ(exit_reason_name(ExitReason::Wake), "wake");
}

TEST(ExitCounters, EveryReasonHasItsOwnName) {
  std::set<std::string> names;
  for (size_t r = 0; r < kExitReasons; ++r)
    names.insert(exit_reason_name(static_cast<ExitReason>(r)));
  EXPECT_EQ(names.size(), kExitReasons);
}

TEST(ExitCounters, TotalIsTheSumOfTheReasons) {
  VcpuExitCounts c;
  EXPECT_EQ(c.total(), 0u);
  c.count(ExitReason::Mmio);
  c.count(ExitReason::Mmio);
  c.count(ExitReason::Io);
  c.count(ExitReason::Wake);
  EXPECT_EQ(c.get(ExitReason::Mmio), 2u);
  EXPECT_EQ(c.get(ExitReason::Io), 1u);
  EXPECT_EQ(c.get(ExitReason::Hlt), 0u);
  EXPECT_EQ(c.total(), 4u);
  // A cache line of its own per vCPU.
  EXPECT_EQ(alignof(VcpuExitCounts) % 64, 0u);
}

}  // namespace
}  // namespace vmrt::vmm
