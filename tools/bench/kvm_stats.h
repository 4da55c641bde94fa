#pragma once
// KVM's own statistics of one VM, from debugfs (/sys/kernel/debug/kvm/
// PID-FD/NAME, the sums over its vCPUs): exits by kind, for the benchmarks
// to say where a round trip's time goes. Needs root and debugfs mounted.

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vmrt::bench {

// The names the benchmarks report: exits, and the kinds that cost most.
const std::vector<std::string>& kvm_stat_names();

// The statistics of the VM that process `pid` created (its first, if it
// has several), or nullopt when there is none or debugfs is not mounted.
std::optional<std::map<std::string, uint64_t>> kvm_vm_stats(pid_t pid);

// The one running process named exactly `name` (/proc/PID/comm), or 0 when
// there is none or more than one.
pid_t only_process_named(const std::string& name);

}  // namespace vmrt::bench
