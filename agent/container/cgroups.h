#pragma once
// A container's cgroup v2 directory: creation with controllers enabled on
// the way down, limits, freezer, kill, statistics, removal.

#include <sys/types.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "agent/container/cgroup_resources.h"
#include "agent/container/container.h"
#include "common/fd.h"

namespace vmrt::agent {

class Cgroup {
 public:
  // Creates ROOT/RELATIVE, which must not exist yet. On each ancestor from
  // ROOT down, enables every controller of cpu, cpuset, memory, pids, io and
  // hugetlb that it offers; `needed` ones that are not offered are an error.
  static Cgroup create(const std::filesystem::path& root, const std::string& relative,
                       const std::set<std::string>& needed);

  Cgroup(Cgroup&&) noexcept = default;
  Cgroup& operator=(Cgroup&&) noexcept = default;
  ~Cgroup();  // remove(), errors logged

  const std::filesystem::path& path() const noexcept { return path_; }
  // The directory, for clone3(CLONE_INTO_CGROUP).
  int fd() const noexcept { return dir_.get(); }

  // Writes each file; an error names the file and the value.
  void apply(const std::vector<CgroupWrite>& writes);
  void freeze(bool frozen);  // waits until cgroup.events says so
  bool frozen();
  void kill();  // SIGKILL to every process (cgroup.kill, or one by one)
  std::vector<pid_t> procs();
  Stats stats();
  // memory.events' oom_kill; 0 without the memory controller.
  uint64_t oom_kills();
  // Kills what is left, waits until the cgroup is empty and removes it.
  void remove();

 private:
  Cgroup() = default;
  std::string read(const std::string& file);
  bool has(const std::string& file);
  void wait_events(const std::string& key, const std::string& value);

  std::filesystem::path path_;
  UniqueFd dir_;
};

}  // namespace vmrt::agent
