// The soak tool's causes: the VMM's end reason wins over how the failure
// surfaced, ids and numbers do not split one cause into many, and each
// kind of evidence (timeout, agent, containerd status, exit status,
// missing marker) gives its own cause.
#include "tools/bench/failure_cause.h"

#include <gtest/gtest.h>

namespace vmrt::bench {
namespace {

FailureEvidence cri(std::string call, std::string status, std::string error) {
  FailureEvidence e;
  e.call = std::move(call);
  e.grpc_status = std::move(status);
  e.error = std::move(error);
  return e;
}

// A boot's evidence: what the command printed and how it exited.
FailureEvidence boot(std::string call, int status, std::string log,
                     std::vector<std::string> expected = {}) {
  FailureEvidence e;
  e.call = std::move(call);
  e.exit_status = status;
  e.log = std::move(log);
  e.expected = std::move(expected);
  return e;
}

TEST(FailureCause, TheVmmEndReasonInAContainerdErrorIsTheCause) {
  auto e = cri("RunPodSandbox", "UNKNOWN",
               "failed to start sandbox 0123456789abcdef: sandbox x: vmrt-vmm exited with "
               "status 3 before the guest agent answered\nvmrt-vmm log (last lines):\n"
               "[error] vm ended reason=\"guest triple fault: vCPU 0 shut down (rip 0xfff0)\"");
  EXPECT_EQ(failure_cause(e), "guest triple fault");
}

TEST(FailureCause, AGuestTheRigLostSaysSo) {
  const std::string ended =
      "vmrt-vmm[569] error: vm ended reason=\"guest triple fault: vCPU 1 shut down (rip "
      "0xfff0)\"\n";
  const std::string lost =
      "testvm-rig-fault: pid 569 (vcpu1-571) vCPU 1: guest shutdown with L1's own state (rip "
      "0xffffffffc035320c in __svm_vcpu_run) resumed as the guest; delivering 0x80000b0e error "
      "0x00000010\n";
  auto e = boot("vmrt-vmm", 1, ended + lost);
  EXPECT_EQ(failure_cause(e), "guest triple fault (rig fault: L1's state resumed as the guest)");
  // Another VM the rig lost at the same time is not this one.
  e.log = "vmrt-vmm[600] error: vm ended reason=\"guest triple fault: vCPU 1 shut down\"\n" + lost;
  EXPECT_EQ(failure_cause(e), "guest triple fault");
  // Without a VMM pid in the evidence (a QEMU boot), the record is this VM's.
  e = boot("qemu-microvm", 0, "VMRT_GUEST_READY\n" + lost,
           {"VMRT_GUEST_READY", "VMRT_SHLOAD_DONE"});
  EXPECT_EQ(failure_cause(e),
            "no VMRT_SHLOAD_DONE in the output (rig fault: L1's state resumed as the guest)");
  // A guest's own shutdown, recorded but not the rig's, leaves the cause as it is.
  e = boot("vmrt-vmm", 1,
           ended +
               "testvm-guest-shutdown: pid 569 (vcpu1-571) vCPU 1: guest shutdown at rip "
               "0x40f2ea; delivering 0x80000b0e error 0x00000010\n");
  EXPECT_EQ(failure_cause(e), "guest triple fault");
}

TEST(FailureCause, APanicKeepsItsMessageWithoutNumbers) {
  auto e = boot("vmrt-vmm", 2,
                "vm ended reason=\"guest kernel panic: Attempted to kill init! "
                "exitcode=0x00000100\"");
  EXPECT_EQ(failure_cause(e), "guest kernel panic: Attempted to kill init! exitcode=0x…");
}

TEST(FailureCause, NormalEndsAreNotCauses) {
  auto e = boot("vmrt-vmm", 0, "vm ended reason=\"guest rebooted\"", {"VMRT_GUEST_READY"});
  EXPECT_EQ(failure_cause(e), "guest never reached userspace");
  e.log += "\nVMRT_GUEST_READY cpus=2\n";
  e.expected.push_back("VMRT_MEMLOAD_DONE");
  EXPECT_EQ(failure_cause(e), "no VMRT_MEMLOAD_DONE in the output");
}

TEST(FailureCause, TheVmmPhrasesCountWithoutTheLogLine) {
  for (const char* what : {"KVM could not run the guest", "a device process ended"}) {
    auto e = cri("StartContainer", "UNKNOWN", std::string("vm gone: ") + what + ": details");
    EXPECT_EQ(failure_cause(e), what);
  }
}

TEST(FailureCause, AKernelPanicOnTheConsole) {
  auto e = boot("qemu-microvm", 0,
                "[    1.234] Kernel panic - not syncing: VFS: Unable to mount root fs\n[ end ]");
  EXPECT_EQ(failure_cause(e), "guest kernel panic: VFS: Unable to mount root fs");
}

TEST(FailureCause, AMemloadFailureInTheGuest) {
  auto e =
      boot("vmrt-vmm", 0, "VMRT_GUEST_READY\nVMRT_MEMLOAD_DONE cpus=2 mib=256 rounds=4 failed=1\n",
           {"VMRT_GUEST_READY", "VMRT_MEMLOAD_DONE"});
  EXPECT_EQ(failure_cause(e), "memload: filler processes failed in the guest");
  e.log = "VMRT_GUEST_READY\nVMRT_MEMLOAD_DONE cpus=2 mib=256 rounds=4 failed=0\n";
  EXPECT_EQ(failure_cause(e), "unknown");
}

TEST(FailureCause, TheAgentNotAnswering) {
  auto e = cri("RunPodSandbox", "UNKNOWN",
               "sandbox abc: the guest agent did not answer within 60 s (last attempt: x)");
  EXPECT_EQ(failure_cause(e), "agent not answering");
}

TEST(FailureCause, AVmmThatGaveUpSaysWhyInItsLog) {
  auto e = cri("RunPodSandbox", "UNKNOWN",
               "failed to create shim task: sandbox 0e7b790cca2c4841: vmrt-vmm exited with status "
               "1 before the guest agent answered\nvmrt-vmm log (last lines):\n"
               "2026-12-07T01:02:49.981 vmrt-vmm[1] info: jailed\n"
               "2026-12-07T01:02:50.071 vmrt-vmm[1] error: cannot open /dev/kvm: No such file\n");
  EXPECT_EQ(failure_cause(e), "vmrt-vmm error: cannot open /dev/kvm: No such file");
  // A running VMM's error lines are not why a later call failed.
  auto later = cri("ExecSync", "UNKNOWN", "exec failed");
  later.log = "vmrt-vmm[1] error: virtio-fs: a request the guest sent was malformed";
  EXPECT_EQ(failure_cause(later), "containerd error: ExecSync: UNKNOWN: exec failed");
}

TEST(FailureCause, TimeoutsNameTheCall) {
  EXPECT_EQ(failure_cause(cri("StartContainer", "DEADLINE_EXCEEDED", "Deadline Exceeded")),
            "timeout: StartContainer");
  FailureEvidence e;
  e.call = "vmrt run";
  e.exit_status = 124;
  e.timed_out = true;
  EXPECT_EQ(failure_cause(e), "timeout: vmrt run");
  // The soak's own teardown of a run that timed out is not the cause.
  e.log = "vmrt-vmm[1] info: vm ended reason=\"stopped by the host: SIGTERM received\"";
  EXPECT_EQ(failure_cause(e), "timeout: vmrt run");
}

TEST(FailureCause, ContainerdErrorsWithoutTheirIds) {
  auto a = cri("RemovePodSandbox", "UNKNOWN",
               "failed to remove sandbox 0123456789abcdef0123: pid 12345 busy\nmore");
  auto b = cri("RemovePodSandbox", "UNKNOWN",
               "failed to remove sandbox fedcba98765432100000: pid 67890 busy");
  EXPECT_EQ(failure_cause(a),
            "containerd error: RemovePodSandbox: UNKNOWN: failed to remove "
            "sandbox <id>: pid N busy");
  EXPECT_EQ(failure_cause(a), failure_cause(b));
}

TEST(FailureCause, LongErrorsKeepTheirEndFromAWholeWord) {
  std::string wrapped;
  for (int i = 0; i < 6; ++i) wrapped += "failed to create the shim task: ";
  auto e = cri("RunPodSandbox", "UNKNOWN", wrapped + "the real reason");
  std::string cause = failure_cause(e);
  EXPECT_LT(cause.size(), 200u);
  EXPECT_TRUE(cause.ends_with(": the real reason")) << cause;
  // After the ellipsis comes a whole word of the message.
  size_t cut = cause.find("…");
  ASSERT_NE(cut, std::string::npos) << cause;
  std::string rest = cause.substr(cut + std::string("…").size());
  EXPECT_TRUE(wrapped.find(" " + rest.substr(0, rest.find(' ')) + " ") != std::string::npos)
      << cause;
}

TEST(FailureCause, AnExitStatusWithTheLastErrorLine) {
  FailureEvidence e;
  e.call = "vmrt run";
  e.exit_status = 1;
  e.error = "starting\nvmrt: container s1: cannot create cgroup\n";
  EXPECT_EQ(failure_cause(e),
            "vmrt run exited with status 1: vmrt: container s1: cannot "
            "create cgroup");
  e.error.clear();
  EXPECT_EQ(failure_cause(e), "vmrt run exited with status 1");
}

TEST(LeftoverCause, NamesTheKindOfThingLeft) {
  EXPECT_EQ(leftover_cause("shim: 123 /usr/bin/containerd-shim-vmrt-v1 -id x"),
            "left behind: shim");
  EXPECT_EQ(leftover_cause("vmm: 456 /build/vmm/vmrt-vmm --kernel k"),
            "left behind: vmrt-vmm process");
  EXPECT_EQ(leftover_cause("vmrt shim state: /tmp/x/shim/00ff"), "left behind: sandbox directory");
  EXPECT_EQ(leftover_cause("mount: 12 34 0:5 / /tmp/x"), "left behind: mount");
}

}  // namespace
}  // namespace vmrt::bench
