#pragma once
// The pod's VMM, recorded in the shim's directory so that `delete` can stop
// a VM whose shim is gone but did not take the VM with it, and with it the
// pod's id, which the directory's hashed name does not tell: vmrt-monitor
// finds the pod VMs of a node through these two files.

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace vmrt::shim {

// The VMM's pid (host view), one decimal line.
inline std::filesystem::path vmm_pid_file(const std::filesystem::path& pod_dir) {
  return pod_dir / "vmm.pid";
}
// The pod (sandbox) id, one line.
inline std::filesystem::path pod_id_file(const std::filesystem::path& pod_dir) {
  return pod_dir / "pod";
}

// How long the VM took to start, from the VMM's spawn (sandbox::StartTimes):
// {"vmm_ready_ms":N,"agent_ready_ms":N,"sandbox_ready_ms":N,"from_template":B}.
inline std::filesystem::path start_times_file(const std::filesystem::path& pod_dir) {
  return pod_dir / "start_times.json";
}

void record_vmm(const std::filesystem::path& pod_dir, pid_t pid, const std::string& pod);
// Writes start_times_file; a failure is logged, never thrown (the pod runs
// without it).
void record_start_times(const std::filesystem::path& pod_dir, const std::string& json);

// SIGKILLs the recorded process if it still runs and still is a vmrt-vmm
// (the pid may have been reused); then forgets it.
void kill_recorded_vmm(const std::filesystem::path& pod_dir);

}  // namespace vmrt::shim
