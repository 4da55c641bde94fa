#pragma once
// The cgroup a sandbox's VMM runs in: <cgroup2 root>/<parent>/<sandbox id>,
// with limits that follow the VM's size, so that a VMM a hostile guest has
// taken over cannot take more of the host than its VM was given.

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/fd.h"

namespace vmrt::sandbox {

struct VmmLimits {
  uint64_t memory_bytes;  // memory.max
  uint64_t cpu_quota_us;  // cpu.max, per 100 ms period
  uint64_t max_tasks;     // pids.max: threads included

  bool operator==(const VmmLimits&) const = default;
};

// Guest RAM plus the VMM's own needs (its threads, virtqueue buffers, the
// page cache of the files it serves); the vCPUs plus one CPU for the device
// threads; its threads with room to spare.
VmmLimits limits_for(uint32_t vcpus, uint64_t memory_mib);

class VmmCgroup {
 public:
  // Creates the cgroup (and `parent`, enabling the memory, cpu and pids
  // controllers on the way) and writes `limits`. Throws vmrt::Error naming
  // the file and jail.cgroup_parent when the host does not allow it (no
  // cgroup2, or its controllers taken).
  static VmmCgroup create(const std::string& parent, const std::string& name,
                          const VmmLimits& limits);
  VmmCgroup(VmmCgroup&&) noexcept = default;
  VmmCgroup& operator=(VmmCgroup&&) = delete;
  VmmCgroup(const VmmCgroup&) = delete;
  ~VmmCgroup();  // removes the cgroup: its processes must have ended

  const std::filesystem::path& path() const noexcept { return path_; }
  int fd() const noexcept { return fd_.get(); }  // for CLONE_INTO_CGROUP

 private:
  VmmCgroup(std::filesystem::path path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::filesystem::path path_;
  UniqueFd fd_;
};

// The calling process in a cgroup for as long as this lives, then back in
// the one it came from (a cgroup keeps no process it is removed with).
class JoinedCgroup {
 public:
  // Throws vmrt::Error naming the cgroup when the move is refused.
  explicit JoinedCgroup(const std::filesystem::path& cgroup);
  ~JoinedCgroup();
  JoinedCgroup(const JoinedCgroup&) = delete;
  JoinedCgroup& operator=(const JoinedCgroup&) = delete;

 private:
  std::filesystem::path from_;
};

// Names the cgroup in the sandbox directory `dir`, for remove_left_cgroup.
void record_cgroup(const std::filesystem::path& dir, const std::filesystem::path& cgroup);
// Removes the cgroup recorded in sandbox directory `dir`, which a VMM left
// when its runtime was killed (the VMM dies with it, the directory stays):
// for the paths that clean up after a dead runtime. Waits a little for a VMM
// that is still exiting; best effort, failures are logged.
void remove_left_cgroup(const std::filesystem::path& dir);

// Where cgroup2 is mounted ("" when it is not).
std::filesystem::path cgroup2_root();

}  // namespace vmrt::sandbox
