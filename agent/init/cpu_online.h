#pragma once
// vCPU hotplug inside the guest: the VMM gives the VM more vCPUs than it
// starts (maxcpus= on the kernel command line); the host then asks the
// agent to bring some of them online or take them offline again, through
// sysfs (CONFIG_HOTPLUG_CPU): <root>/cpuK/online, with <root> normally
// /sys/devices/system/cpu. The root is a parameter so that tests run this
// against a directory tree of their own.
//
// Containers need nothing done: in cgroup v2 every cpuset's effective CPUs
// follow the online set (a cpuset left with none falls back to its
// parent's), and cpuset.cpus may name offline CPUs.

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace vmrt::agent {

inline constexpr const char* kSysCpuRoot = "/sys/devices/system/cpu";

struct CpuCounts {
  uint32_t online = 0;
  uint32_t present = 0;
};

// The number of CPUs in a kernel CPU list ("0-3,6,8-9\n"; empty: none).
// Throws vmrt::Error for a malformed one.
uint32_t cpu_list_count(std::string_view list);

// How many CPUs are online and present now, from <root>/online and
// <root>/present (and each cpuK/online where the two could disagree).
CpuCounts cpu_counts(const std::filesystem::path& root);

// Brings CPUs 0..count-1 online (in ascending order) and takes every other
// present CPU offline (descending), writing only the cpuK/online files
// that must change: asking again for the same count writes nothing. CPU 0
// is never taken offline (x86 gives it no online file). Throws
// ttrpc::StatusError INVALID_ARGUMENT for a count of 0 or above the number
// of present CPUs, vmrt::Error naming the CPU when the kernel refuses one.
CpuCounts set_online_cpus(const std::filesystem::path& root, uint32_t count);

}  // namespace vmrt::agent
