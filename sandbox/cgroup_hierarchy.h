#pragma once
// The host's cgroup hierarchies a sandbox's cgroups go in: the cgroup2 one
// alone where it holds the controllers (a unified host), else every cgroup
// v1 hierarchy (a legacy or hybrid host, one hierarchy per controller, as
// kubelet's and runc's cgroupfs drivers use them).

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace vmrt::sandbox {

struct CgroupHierarchy {
  std::filesystem::path mount;  // the mount of its root
  bool v2 = false;
  // v1: what it was mounted with ("memory"; "cpu", "cpuacct";
  // "name=systemd"); v2: empty, every controller is there.
  std::set<std::string> controllers;

  bool has(const std::string& controller) const { return v2 || controllers.count(controller); }
  bool operator==(const CgroupHierarchy&) const = default;
};

// The hierarchies mounted at their roots in /proc/self/mountinfo's `text`
// (a mount of a cgroup below the root, a container's view, is left out).
std::vector<CgroupHierarchy> parse_cgroup_mounts(const std::string& mountinfo);

// Which of `mounts` a sandbox uses: the cgroup2 one when
// `v2_has_memory` (its root's cgroup.controllers lists "memory"), else
// the v1 ones. Throws vmrt::Error when that leaves no memory, cpu or pids
// controller, naming jail.cgroup_parent and jail.pod_cgroup.
std::vector<CgroupHierarchy> choose_hierarchies(const std::vector<CgroupHierarchy>& mounts,
                                                bool v2_has_memory);

// choose_hierarchies for this host.
std::vector<CgroupHierarchy> host_hierarchies();

// Where a process is in `h` according to its /proc/PID/cgroup `text`,
// relative to the root ("kubepods/pod1"); nullopt when it is not listed.
std::optional<std::filesystem::path> cgroup_in(const std::string& proc_cgroup,
                                               const CgroupHierarchy& h);

// Where cgroup2 is mounted ("" when it is not).
std::filesystem::path cgroup2_root();

}  // namespace vmrt::sandbox
