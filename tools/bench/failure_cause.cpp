#include "tools/bench/failure_cause.h"

#include <array>
#include <regex>
#include <set>
#include <string_view>

namespace vmrt::bench {

namespace {

constexpr size_t kMaxCause = 120;

// Ids, addresses, pids and timings differ between two failures of the same
// kind: replaced, so that those count as one cause.
std::string normalize(std::string s) {
  static const std::regex hex_number("0x[0-9a-fA-F]+");
  static const std::regex hex_id("\\b[0-9a-f]{8,}\\b");
  static const std::regex long_number("[0-9]{4,}(\\.[0-9]+)?");
  s = std::regex_replace(s, hex_number, "0x…");
  s = std::regex_replace(s, hex_id, "<id>");
  s = std::regex_replace(s, long_number, "N");
  // The end of a chain of wrapped errors ("failed to create task: ...: X")
  // is the most specific part; it starts at a whole word.
  if (s.size() > kMaxCause) {
    s = s.substr(s.size() - (kMaxCause - 1));
    s = "…" + s.substr(s.find(' ') == std::string::npos ? 0 : s.find(' ') + 1);
  }
  return s;
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string first_line(const std::string& s) {
  std::string t = trim(s);
  return t.substr(0, t.find('\n'));
}

std::string last_line(const std::string& s) {
  std::string t = trim(s);
  return trim(t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1));
}

// What the VMM logged as the end of its VM (main.cpp: vm ended
// reason="..."), the last one that was not a normal end; "" if none.
std::string vmm_reason(const std::string& text) {
  static const std::regex ended("vm ended reason=\\\\?\"([^\"\\\\]*)");
  std::string found;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), ended);
       it != std::sregex_iterator(); ++it) {
    std::string r = (*it)[1];
    // The host's stop says why after a colon ("stopped by the host: SIGTERM
    // received"): a VM stopped because its run timed out, not a cause.
    if (r != "guest rebooted" && r != "guest powered off" && !r.starts_with("stopped by the host"))
      found = r;
  }
  return found;
}

// A VMM end reason as a cause: a panic keeps its message (it says what
// went wrong in the guest); the others' details are addresses and vCPUs.
std::string reason_cause(const std::string& reason) {
  constexpr std::string_view panic = "guest kernel panic: ";
  if (reason.starts_with(panic)) return std::string(panic) + normalize(reason.substr(panic.size()));
  return reason.substr(0, reason.find(':'));
}

constexpr std::array<std::string_view, 4> kVmmEnds = {"guest triple fault", "guest kernel panic",
                                                      "KVM could not run the guest",
                                                      "a device process ended"};

// Whether the rig recorded a fault of its own in this attempt's VM: a
// record whose VMM pid is one the evidence names ("vmrt-vmm[PID]"), or
// any record when the evidence names none (a QEMU boot, a CLI error).
bool rig_lost_this_vm(const std::string& all) {
  static const std::regex record("testvm-rig-fault: pid ([0-9]+|\\?)");
  static const std::regex vmm_pid("vmrt-vmm\\[([0-9]+)\\]");
  std::set<std::string> vmms;
  for (auto it = std::sregex_iterator(all.begin(), all.end(), vmm_pid);
       it != std::sregex_iterator(); ++it)
    vmms.insert((*it)[1]);
  for (auto it = std::sregex_iterator(all.begin(), all.end(), record); it != std::sregex_iterator();
       ++it)
    if (vmms.empty() || vmms.contains((*it)[1])) return true;
  return false;
}

// The cause as the evidence shows it, before what the rig recorded.
std::string evidence_cause(const FailureEvidence& e) {
  const std::string all = e.error + "\n" + e.log;
  if (std::string r = vmm_reason(all); !r.empty()) return reason_cause(r);
  for (auto end : kVmmEnds)
    if (all.find(end) != std::string::npos) return std::string(end);
  static const std::regex kernel_panic("Kernel panic - not syncing: ([^\r\n]*)");
  if (std::smatch m; std::regex_search(all, m, kernel_panic))
    return "guest kernel panic: " + normalize(trim(m[1].str()));
  static const std::regex memload("VMRT_MEMLOAD_DONE [^\n]*failed=[1-9]");
  if (std::regex_search(all, memload)) return "memload: filler processes failed in the guest";
  if (all.find("guest agent did not answer") != std::string::npos ||
      all.find("did not answer in time (is the guest up?)") != std::string::npos)
    return "agent not answering";
  if (e.timed_out || e.grpc_status == "DEADLINE_EXCEEDED") return "timeout: " + e.call;
  // A VMM that gave up before running the guest (exit status 1) said why
  // in its log; only then, since a running VMM may log errors it survives.
  static const std::regex vmm_error("vmrt-vmm\\[[0-9]+\\] (error|critical): ([^\n]*)");
  if (all.find("vmrt-vmm exited") != std::string::npos || e.call == "vmrt-vmm")
    if (std::smatch m; std::regex_search(all, m, vmm_error))
      return "vmrt-vmm error: " + normalize(trim(m[2].str()));
  if (!e.grpc_status.empty())
    return "containerd error: " + e.call + ": " + e.grpc_status + ": " +
           normalize(first_line(e.error));
  if (e.exit_status != 0) {
    std::string cause = e.call + " exited with status " + std::to_string(e.exit_status);
    std::string why = last_line(e.error);
    return why.empty() ? cause : cause + ": " + normalize(why);
  }
  for (const auto& marker : e.expected)
    if (all.find(marker) == std::string::npos)
      return marker == "VMRT_GUEST_READY" ? "guest never reached userspace"
                                          : "no " + marker + " in the output";
  std::string why = last_line(e.error);
  return why.empty() ? "unknown" : "unknown: " + normalize(why);
}

}  // namespace

std::string failure_cause(const FailureEvidence& e) {
  // The rig's L1 recorded a guest resumed with L1's own state in its VMCB
  // (tools/rig/world_switch_watch.py) while this ran: whatever the guest
  // did next, the rig's emulated CPU lost it.
  std::string cause = evidence_cause(e);
  if (rig_lost_this_vm(e.error + "\n" + e.log))
    cause += " (rig fault: L1's state resumed as the guest)";
  return cause;
}

std::string leftover_cause(const std::string& leftover) {
  std::string kind = leftover.substr(0, leftover.find(": "));
  if (kind == "vmm") kind = "vmrt-vmm process";
  if (kind == "vmrt shim state") kind = "sandbox directory";
  return "left behind: " + kind;
}

}  // namespace vmrt::bench
