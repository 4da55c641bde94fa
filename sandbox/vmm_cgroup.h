#pragma once
// The cgroups of a sandbox: the VMM's (its file server is its child, so
// there too), with limits that follow the VM's size so that a VMM a hostile
// guest has taken over cannot take more of the host than its VM was given;
// and, in a pod's cgroup, a leaf for the runtime process (the shim) beside
// it. One directory per hierarchy: the cgroup2 one, or each cgroup v1 one.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/fd.h"
#include "sandbox/cgroup_hierarchy.h"

namespace vmrt::sandbox {

struct VmmLimits {
  uint64_t memory_bytes;  // memory.max (v1: memory.limit_in_bytes)
  uint64_t cpu_quota_us;  // cpu.max (v1: cpu.cfs_quota_us), per 100 ms period
  uint64_t max_tasks;     // pids.max: threads included

  bool operator==(const VmmLimits&) const = default;
};

// Guest RAM plus the VMM's own needs (its threads, virtqueue buffers, the
// page cache of the files it serves); the vCPUs plus one CPU for the device
// threads; its threads with room to spare.
VmmLimits limits_for(uint32_t vcpus, uint64_t memory_mib);

// Where a sandbox's cgroups go, below each hierarchy's root.
struct CgroupPlacement {
  // Created when missing (and the parents on the way).
  std::filesystem::path parent;
  std::string vmm;   // the VMM's cgroup, a child of `parent`
  std::string shim;  // "" or a leaf beside it for the runtime (join_shim)
  // `parent` is the sandbox's own (a container's cgroupsPath): removed with
  // the rest when this made it. Otherwise shared, and kept.
  bool owns_parent = false;
};
// Without a pod: <cgroup_parent>/vmm-<id>.
CgroupPlacement shared_placement(const std::string& cgroup_parent, const std::string& id);
// In the cgroup an OCI cgroupsPath names (cgroup_of_cgroups_path): <pod>/vmm
// and <pod>/shim (cgroup v2 keeps processes out of a cgroup whose children
// have controllers, so the runtime cannot stay in <pod> itself).
CgroupPlacement pod_placement(const std::filesystem::path& pod);

// The calling process in a set of cgroups for as long as this lives, then
// back where it came from (a cgroup keeps no process it is removed with).
class JoinedCgroup {
 public:
  // One cgroup directory per hierarchy. Throws vmrt::Error naming the
  // cgroup when a move is refused (after moving back what had moved).
  JoinedCgroup(const std::vector<std::pair<CgroupHierarchy, std::filesystem::path>>& to);
  ~JoinedCgroup();
  JoinedCgroup(JoinedCgroup&& other) noexcept = default;
  JoinedCgroup& operator=(JoinedCgroup&&) = delete;
  JoinedCgroup(const JoinedCgroup&) = delete;

 private:
  void leave() noexcept;
  std::vector<std::filesystem::path> from_;  // the cgroup directories to go back to
};

class VmmCgroup {
 public:
  // Creates the cgroups in every hierarchy of `hierarchies` (cgroup v2:
  // enabling the memory, cpu and pids controllers on the way; v1: cpuset
  // copied from the parent) and writes `limits`. A VMM cgroup left by a
  // runtime that was killed is replaced. Throws vmrt::Error naming the file
  // and jail.cgroup_parent / jail.pod_cgroup when the host does not allow
  // it; nothing is left then.
  static VmmCgroup create(const CgroupPlacement& where, const VmmLimits& limits,
                          const std::vector<CgroupHierarchy>& hierarchies = host_hierarchies());
  VmmCgroup(VmmCgroup&&) noexcept = default;
  VmmCgroup& operator=(VmmCgroup&&) = delete;
  VmmCgroup(const VmmCgroup&) = delete;
  // Removes what create() made: its processes must have ended and the
  // runtime left the shim leaf (JoinedCgroup gone).
  ~VmmCgroup();

  // The VM grew or shrank. v2: memory.max, cpu.max, pids.max; v1:
  // memory.limit_in_bytes (and memsw where swap is accounted),
  // cpu.cfs_quota_us (at most what the parents allow, as v1 requires),
  // pids.max. Throws vmrt::Error naming the file (e.g. a memory limit below
  // what the VMM uses, which v1 refuses).
  void set_limits(const VmmLimits& limits);

  // The VMM's cgroup in the memory hierarchy (cgroup v2: the only one).
  const std::filesystem::path& path() const noexcept { return dirs_.front().vmm; }
  bool v2() const noexcept { return dirs_.front().h.v2; }
  // cgroup v2: an O_DIRECTORY fd for CLONE_INTO_CGROUP; v1: -1.
  int fd() const noexcept { return fd_.get(); }
  // cgroup v1: the VMM cgroups' cgroup.procs, open for writing, for the
  // child to move itself into before it runs the VMM
  // (SpawnOptions::join_cgroup_procs); v2: none.
  std::vector<int> procs_fds() const;
  // Moving the caller in the VMM's cgroups, or the shim leaf (none: empty).
  std::vector<std::pair<CgroupHierarchy, std::filesystem::path>> vmm_dirs() const;
  std::vector<std::pair<CgroupHierarchy, std::filesystem::path>> shim_dirs() const;
  // What the destructor removes, in its order: for record_cgroup.
  std::vector<std::filesystem::path> removal_order() const;

 private:
  struct Dir {
    CgroupHierarchy h;
    std::filesystem::path vmm, shim, made_parent;  // shim, made_parent: "" for none
    UniqueFd procs;                                // v1
  };
  VmmCgroup() = default;
  void remove() noexcept;
  std::vector<Dir> dirs_;
  UniqueFd fd_;
};

// set_limits for the VMM cgroups process `vmm` is in, for a process other
// than the sandbox's owner (the CLI's `vmrt update`). A VMM outside a VMM
// cgroup of vmrt's (named vmm or vmm-*: no cgroup was configured) is left
// alone. Throws vmrt::Error as set_limits does.
void set_limits_of_process(pid_t vmm, const VmmLimits& limits);

// Names the cgroups in the sandbox directory `dir`, for remove_left_cgroup.
void record_cgroup(const std::filesystem::path& dir,
                   const std::vector<std::filesystem::path>& cgroups);
// Removes the cgroups recorded in sandbox directory `dir`, which a runtime
// left when it was killed (its VMM dies with it, the directory stays): for
// the paths that clean up after a dead runtime. Only cgroup directories are
// removed; waits a little for a VMM that is still exiting; best effort,
// failures are logged.
void remove_left_cgroup(const std::filesystem::path& dir);

}  // namespace vmrt::sandbox
