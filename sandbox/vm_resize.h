#pragma once
// Bringing a running VM to a new size (sandbox/vm_size.h): vCPUs through
// the agent, which takes CPUs online and offline in the guest; memory
// through the VMM's virtio-mem device, which the guest's driver plugs and
// unplugs block by block; and the VMM's cgroup limits following what the
// VM really has. The guest may not free all it is asked to unplug (pages it
// cannot move): that is reported, never forced, and the limits stay at what
// is still plugged.
//
// The levers are functions, so that the policy (the order of the steps and
// what a shortfall means) is one piece of code that unit tests drive with
// fakes, and the sandbox and the CLI's `vmrt update` bind them to the real
// agent, control socket and cgroup.

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "sandbox/vm_size.h"
#include "sandbox/vmm_cgroup.h"

namespace vmrt::sandbox {

// The VMM's virtio-mem device, as its control socket reports it.
struct MemoryStatus {
  uint64_t region_mib = 0;     // the most that can be plugged
  uint64_t requested_mib = 0;  // what the guest was asked to have plugged
  uint64_t plugged_mib = 0;    // what it has
};

struct VmLevers {
  // Takes the guest to `count` online CPUs; returns how many are online.
  std::function<uint32_t(uint32_t count)> online_cpus;
  // Sets the requested size when given; returns the device's status.
  std::function<MemoryStatus(std::optional<uint64_t> requested_mib)> memory;
  // The VMM cgroup's limits; empty when the VMM has no cgroup.
  std::function<void(const VmmLimits&)> set_limits;
  // Between two looks at the plugged size.
  std::function<void()> wait = [] {};
};

struct Resized {
  VmSize size;            // what the VM has now
  std::string shortfall;  // why it is not the target; empty when it is
};

// Takes the VM of base memory `base_mib` to `target`, waiting at most
// `timeout` for the guest to plug or unplug. Growing, the cgroup limits
// rise before the guest can touch the new memory; shrinking, they fall to
// what the guest gave back. Throws vmrt::Error when a lever fails (the
// agent or the VMM did not answer); a guest that does not reach the size in
// time is a shortfall, not an error.
Resized resize_vm(const VmLevers& levers, uint64_t base_mib, const VmSize& target,
                  std::chrono::milliseconds timeout);

// The memory lever of a VM whose VMM listens on `control_socket`, each
// call to it bounded by `timeout`.
std::function<MemoryStatus(std::optional<uint64_t>)> vmm_memory_lever(
    const std::filesystem::path& control_socket, std::chrono::milliseconds timeout);

class AgentClient;

// The levers of a running VM: CPUs through `agent` (whose Health reported
// `agent_api_version`, asked when not given), memory through the VMM's
// `control_socket`, and `set_limits` for the VMM's cgroup (empty: none).
// `agent` must outlive the levers.
VmLevers vm_levers(AgentClient& agent, std::optional<uint32_t> agent_api_version,
                   const std::filesystem::path& control_socket,
                   std::function<void(const VmmLimits&)> set_limits);

// A container's limits changing from `before` by `resources` (an OCI
// LinuxResources update) in a VM that follows its containers' limits: the
// VM is taken to hold both the old and the new limits (`resize`) while
// `apply` changes the container's cgroup, then to what the new ones need.
// Returns the new limits. The shim's Update and `vmrt update` both do this.
Demand update_limits(const Demand& before, const nlohmann::json& resources,
                     const std::function<void(const Demand&)>& resize,
                     const std::function<void()>& apply);

}  // namespace vmrt::sandbox
