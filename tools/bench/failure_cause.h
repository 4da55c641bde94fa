#pragma once
// Why a pod start, a `vmrt run` or a guest boot failed, as one short cause
// string that a soak run counts failures by: the evidence (the VMM's log,
// the guest console, the error a client got, the exit status) is reduced
// to what ended it, most specific first, so that the same fault counts
// under the same cause however it surfaced (the VMM's reason inside a
// containerd error is the VMM's reason, not a containerd error).

#include <string>
#include <vector>

namespace vmrt::bench {

struct FailureEvidence {
  // What was being done when it failed: a CRI method ("RunPodSandbox"),
  // "vmrt run", "vmrt-vmm", "qemu-microvm".
  std::string call;
  // The error the caller got: a CRI call's status message (with what the
  // shim added: the VMM's log and console tails), a command's stderr.
  std::string error;
  // More evidence: the VMM's log, the guest console.
  std::string log;
  // A gRPC status name ("UNAVAILABLE") when the error is a CRI call's.
  std::string grpc_status;
  int exit_status = 0;     // the command's, when there is one
  bool timed_out = false;  // the call or command ran out of time
  // Lines the output must contain, in this order of importance
  // ("VMRT_GUEST_READY" first); the first missing one is the cause when
  // nothing else is.
  std::vector<std::string> expected;
};

// One line, at most about 120 characters, without the ids, addresses and
// numbers that differ from one failure to the next.
std::string failure_cause(const FailureEvidence& evidence);

// The cause for one line of what a run left behind ("shim: 1234 ...",
// "vmm: ...", "vmrt shim state: /path"): "left behind: shim".
std::string leftover_cause(const std::string& leftover);

}  // namespace vmrt::bench
