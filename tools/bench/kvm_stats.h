#pragma once
// KVM's own statistics of one VM, from debugfs (/sys/kernel/debug/kvm/
// PID-FD/NAME, the sums over its vCPUs): exits by kind, for the benchmarks
// to say where a round trip's time goes. Needs root and debugfs mounted.

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>

namespace vmrt::bench {

// exits, and the kinds that cost most (mmio_exits, io_exits, halt_exits,
// irq_injections), of the VM that process `pid` created (its first, if it
// has several), or nullopt when there is none or debugfs is not mounted.
std::optional<std::map<std::string, uint64_t>> kvm_vm_stats(pid_t pid);

}  // namespace vmrt::bench
