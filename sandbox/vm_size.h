#pragma once
// How large a pod's VM is: the configuration's size is the base (what the
// guest kernel, the agent and a pod without limits need), and the pod's
// limits come on top, so that a container allowed 2 GiB finds 2 GiB in its
// VM. The VM is booted (or restored from a template) at the base size with
// room to grow up to the operator's maxima: vCPUs enumerated but offline,
// and a virtio-mem region nothing is plugged into. Sizes then follow the
// pod: at creation from containerd's sandbox annotations (the sum of the
// containers' limits) or a bundle's own limits, later from each container's
// limits as they are created, updated and removed.

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "sandbox/config.h"

namespace vmrt::sandbox {

// Memory the virtio-mem device plugs in blocks of (Linux's memory block size
// on x86-64, so that whole blocks go online and offline).
inline constexpr uint64_t kHotplugBlockMib = 128;

// What containers ask of the VM: the sum of their memory limits and of
// their CPU limits (quota / period), in millicpus. Requests and shares
// are not limits and ask for nothing, as for containerd's own sums.
struct Demand {
  uint64_t memory_bytes = 0;
  uint64_t millicpus = 0;

  Demand& operator+=(const Demand& d);
  bool operator==(const Demand&) const = default;
};

// The limits of OCI LinuxResources (a spec's linux.resources or an update's
// resources). A negative or absent limit is no limit. Throws vmrt::Error for
// values of the wrong type.
Demand demand_of(const nlohmann::json& resources);

// A container's demand after an update of its resources: the limits the
// update names replace those it had, the others stay (as runc's update
// leaves what it is not given).
Demand demand_after_update(const Demand& before, const nlohmann::json& resources);

// The larger of each part.
Demand max_of(const Demand& a, const Demand& b);

// What containerd's CRI plugin says a pod will ask for, from the sandbox
// spec's annotations io.kubernetes.cri.sandbox-memory (bytes) and
// sandbox-cpu-quota / sandbox-cpu-period (microseconds); absent: nothing.
// Throws vmrt::Error naming the annotation when its value is not a number.
Demand pod_demand(const std::map<std::string, std::string>& annotations);

struct VmSize {
  uint32_t vcpus = 0;
  uint64_t memory_mib = 0;
  bool operator==(const VmSize&) const = default;
};

// The most a VM of `config` can grow to: the operator's annotation maxima
// (never below the base), memory rounded down to whole blocks.
struct VmCapacity {
  uint32_t max_vcpus = 0;
  uint64_t hotplug_mib = 0;  // the virtio-mem region: memory beyond the base
  bool operator==(const VmCapacity&) const = default;
};
VmCapacity capacity_of(const RuntimeConfig& config);

// The VM for `demand`: base memory plus the memory limits rounded up to
// whole blocks; the CPU limits rounded up to whole vCPUs, at least the base;
// both capped at capacity_of(config).
VmSize size_for(const RuntimeConfig& config, const Demand& demand);

// What a pod costs the host beyond its containers' limits, for a
// RuntimeClass's overhead.podFixed: the VM's base memory (its kernel, the
// agent and page cache live there, and the guest may touch all of it), the
// VMM, its file server and the shim outside guest RAM, and CPU for the
// device threads and the guest's own housekeeping.
struct PodOverhead {
  uint64_t memory_mib = 0;
  uint64_t millicpus = 0;
};
PodOverhead pod_overhead(const RuntimeConfig& config);

}  // namespace vmrt::sandbox
