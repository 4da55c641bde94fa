#pragma once
// The pod's VMM, recorded in the shim's directory so that `delete` can stop
// a VM whose shim is gone but did not take the VM with it.

#include <sys/types.h>

#include <filesystem>

namespace vmrt::shim {

void record_vmm(const std::filesystem::path& pod_dir, pid_t pid);

// SIGKILLs the recorded process if it still runs and still is a vmrt-vmm
// (the pid may have been reused); then forgets it.
void kill_recorded_vmm(const std::filesystem::path& pod_dir);

}  // namespace vmrt::shim
