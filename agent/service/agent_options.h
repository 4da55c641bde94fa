#pragma once
// What the agent's service needs to know about where it runs.

#include <filesystem>

namespace vmrt::agent {

struct AgentOptions {
  // PID 1 of a sandbox VM: the sandbox's hostname and resolv.conf become the
  // guest's own. Elsewhere (host tests) they are only written to state_dir.
  bool guest = false;
  // Sandbox files and one directory per container.
  std::filesystem::path state_dir = "/run/vmrt-agent";
  // The cgroup v2 mount containers' cgroups are created under.
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
  // The CPUs' sysfs directory OnlineCpus works in (agent/init/cpu_online.h).
  // Not in a guest, OnlineCpus refuses to work in the real one.
  std::filesystem::path cpu_root = "/sys/devices/system/cpu";
};

}  // namespace vmrt::agent
