#include "sandbox/vmm_cgroup.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <thread>

#include "common/cgroup_files.h"
#include "common/error.h"
#include "sandbox/cgroup_limits.h"

namespace vmrt::sandbox {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kRecord = "vmm.cgroup";

// rmdir, retried until `deadline` while a VMM just killed is still leaving.
bool remove_cgroup_dir(const fs::path& path, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(10ms);
  }
  spdlog::warn("cannot remove cgroup {}: {}", path.string(), std::strerror(errno));
  return false;
}

std::chrono::steady_clock::time_point in_2s() { return std::chrono::steady_clock::now() + 2s; }

// Lets the children of `dir` use the controllers (cgroup v2: each must be
// enabled in every ancestor, the root's included).
void enable_controllers(const fs::path& dir) {
  std::set<std::string> enabled = cgroup_words(read_cgroup_file(dir / "cgroup.subtree_control"));
  for (const char* c : {"memory", "cpu", "pids"})
    if (!enabled.count(c))
      write_cgroup_file_for(dir / "cgroup.subtree_control", std::string("+") + c,
                            "enabling the controller for the VMMs' cgroups");
}

// cgroup v1 starts a cpuset cgroup with no CPUs and no memory nodes, where
// no process may go: it gets its nearest ancestor's (a parent another
// runtime has just made may not have its own yet).
void inherit_cpuset(const CgroupHierarchy& h, const fs::path& dir) {
  if (h.v2 || !h.has("cpuset")) return;
  for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
    if (!cgroup_words(read_cgroup_file(dir / f)).empty()) continue;
    std::string value;
    for (fs::path p = dir.parent_path();
         value.empty() && p.string().size() >= h.mount.string().size() && p != p.parent_path();
         p = p.parent_path()) {
      value = read_cgroup_file(p / f);
      if (cgroup_words(value).empty()) value.clear();
    }
    write_cgroup_file_for(dir / f, value, "a new cpuset");
  }
}

// Makes `dir`; one left by a runtime that was killed is empty, so it can go.
void make_fresh(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 &&
      (errno != EEXIST || ::rmdir(dir.c_str()) != 0 || ::mkdir(dir.c_str(), 0755) != 0))
    throw_errno("cannot create cgroup " + dir.string());
}

// A directory of a cgroup file system, below its root: what a record may name.
bool is_cgroup_below_root(const fs::path& path) {
  auto cgroup_fs = [](const fs::path& p) {
    struct statfs s {};
    return ::statfs(p.c_str(), &s) == 0 &&
           (s.f_type == CGROUP_SUPER_MAGIC || s.f_type == CGROUP2_SUPER_MAGIC);
  };
  return path.is_absolute() && cgroup_fs(path) && cgroup_fs(path.parent_path()) &&
         fs::exists(path / "cgroup.procs");
}

// The memory hierarchy first: path() names the VMM's cgroup there.
std::vector<CgroupHierarchy> memory_first(std::vector<CgroupHierarchy> hs) {
  std::stable_partition(hs.begin(), hs.end(), [](const auto& h) { return h.has("memory"); });
  return hs;
}

bool required(const CgroupHierarchy& h) { return h.has("memory") || h.has("cpu") || h.has("pids"); }

}  // namespace

VmmLimits limits_for(uint32_t vcpus, uint64_t memory_mib) {
  const uint64_t overhead_mib = 64 + memory_mib / 8;
  return {.memory_bytes = (memory_mib + overhead_mib) << 20,
          .cpu_quota_us = (vcpus + 1) * kCpuPeriodUs,
          .max_tasks = 64 + 2 * uint64_t{vcpus}};
}

CgroupPlacement shared_placement(const std::string& cgroup_parent, const std::string& id) {
  return {.parent = cgroup_parent, .vmm = "vmm-" + id, .shim = "", .owns_parent = false};
}

CgroupPlacement pod_placement(const fs::path& pod) {
  return {.parent = pod, .vmm = "vmm", .shim = "shim", .owns_parent = true};
}

VmmCgroup VmmCgroup::create(const CgroupPlacement& where, const VmmLimits& limits,
                            const std::vector<CgroupHierarchy>& hierarchies) {
  if (where.parent.empty() || !where.parent.is_relative() || where.vmm.empty())
    fail("VMM cgroup placement \"{}\": expected a path below the cgroup root",
         where.parent.string());
  VmmCgroup cg;  // removes what was made if what follows fails
  for (const auto& h : memory_first(hierarchies)) {
    Dir& d = cg.dirs_.emplace_back(Dir{.h = h});
    try {
      fs::path dir = h.mount;
      if (h.v2) enable_controllers(dir);
      size_t steps = std::distance(where.parent.begin(), where.parent.end()), i = 0;
      for (const auto& step : where.parent) {
        dir /= step;
        const bool last = ++i == steps;
        if (::mkdir(dir.c_str(), 0755) == 0) {
          if (last && where.owns_parent) d.made_parent = dir;
          inherit_cpuset(h, dir);
        } else if (errno != EEXIST) {
          throw_errno("cannot create cgroup " + dir.string());
        }
        if (h.v2) enable_controllers(dir);
      }
      d.vmm = dir / where.vmm;
      make_fresh(d.vmm);
      inherit_cpuset(h, d.vmm);
      if (!where.shim.empty()) {
        d.shim = dir / where.shim;
        make_fresh(d.shim);
        inherit_cpuset(h, d.shim);
      }
      if (h.v2) {
        cg.fd_ = UniqueFd(::open(d.vmm.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!cg.fd_) throw_errno("cannot open cgroup " + d.vmm.string());
      } else {
        fs::path procs = d.vmm / "cgroup.procs";
        d.procs = UniqueFd(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
        if (!d.procs) throw_errno("cannot open " + procs.string());
      }
    } catch (const Error& e) {
      if (required(h)) throw;
      // A hierarchy whose controllers the VMM's limits do not need: the
      // VMM is accounted without it, as where it is not mounted.
      spdlog::warn("VMM cgroup left out of the {} hierarchy: {}", h.mount.string(), e.what());
      Dir failed = std::move(cg.dirs_.back());
      cg.dirs_.pop_back();
      for (const auto& p : {failed.vmm, failed.shim, failed.made_parent})
        if (!p.empty()) ::rmdir(p.c_str());
    }
  }
  if (cg.dirs_.empty()) fail("no cgroup hierarchy for the VMM's cgroup");
  cg.set_limits(limits);
  // Guest memory must not be pushed out to swap behind the guest's back
  // (where the kernel accounts swap at all).
  const fs::path swap = cg.path() / "memory.swap.max";
  if (cg.v2() && fs::exists(swap)) write_cgroup_file_for(swap, "0", "the VMM's swap limit");
  return cg;
}

namespace {

void write_limits(const CgroupHierarchy& h, const fs::path& vmm, const VmmLimits& limits) {
  if (h.v2) {
    write_v2_limits(vmm, limits);
    return;
  }
  if (h.has("memory")) write_v1_memory_limit(vmm, limits.memory_bytes);
  if (h.has("cpu")) write_v1_cpu_quota(h.mount, vmm, limits.cpu_quota_us);
  if (h.has("pids"))
    write_cgroup_file_for(vmm / "pids.max", std::to_string(limits.max_tasks),
                          "the VMM's task limit");
}

}  // namespace

void VmmCgroup::set_limits(const VmmLimits& limits) {
  for (const auto& d : dirs_) write_limits(d.h, d.vmm, limits);
}

void set_limits_of_process(pid_t vmm, const VmmLimits& limits) {
  std::string text;
  std::getline(std::ifstream(fmt::format("/proc/{}/cgroup", vmm)), text, '\0');
  if (text.empty()) fail("VMM {}: no /proc/{}/cgroup (has it ended?)", vmm, vmm);
  for (const CgroupHierarchy& h : host_hierarchies()) {
    std::optional<fs::path> in = cgroup_in(text, h);
    if (!in) continue;
    std::string name = in->filename().string();
    if (name != "vmm" && !name.starts_with("vmm-")) continue;
    write_limits(h, h.mount / *in, limits);
  }
}

std::vector<int> VmmCgroup::procs_fds() const {
  std::vector<int> out;
  for (const auto& d : dirs_)
    if (d.procs) out.push_back(d.procs.get());
  return out;
}

std::vector<std::pair<CgroupHierarchy, fs::path>> VmmCgroup::vmm_dirs() const {
  std::vector<std::pair<CgroupHierarchy, fs::path>> out;
  for (const auto& d : dirs_) out.emplace_back(d.h, d.vmm);
  return out;
}

std::vector<std::pair<CgroupHierarchy, fs::path>> VmmCgroup::shim_dirs() const {
  std::vector<std::pair<CgroupHierarchy, fs::path>> out;
  for (const auto& d : dirs_)
    if (!d.shim.empty()) out.emplace_back(d.h, d.shim);
  return out;
}

std::vector<fs::path> VmmCgroup::removal_order() const {
  std::vector<fs::path> out;
  for (const auto& d : dirs_)
    for (const auto& p : {d.vmm, d.shim, d.made_parent})
      if (!p.empty()) out.push_back(p);
  return out;
}

void VmmCgroup::remove() noexcept {
  fd_.reset();
  auto deadline = in_2s();
  for (auto& d : dirs_) {
    d.procs.reset();
    for (const auto& p : {d.vmm, d.shim, d.made_parent})
      if (!p.empty()) remove_cgroup_dir(p, deadline);
  }
  dirs_.clear();
}

VmmCgroup::~VmmCgroup() { remove(); }

void record_cgroup(const fs::path& dir, const std::vector<fs::path>& cgroups) {
  std::ofstream out(dir / kRecord, std::ios::trunc);
  for (const auto& c : cgroups) out << c.string() << "\n";
}

void remove_left_cgroup(const fs::path& dir) {
  std::ifstream in(dir / kRecord);
  if (!in) return;
  bool all = true;
  auto deadline = in_2s();
  for (std::string path; std::getline(in, path);) {
    if (path.empty()) continue;
    if (!fs::exists(path)) continue;
    // Only cgroups; the record is the runtime's, but a path gone wrong
    // must not reach anything else.
    if (!is_cgroup_below_root(path)) {
      spdlog::warn("not removing {}: not a cgroup", path);
      continue;
    }
    all &= remove_cgroup_dir(path, deadline);
  }
  std::error_code ec;
  if (all) fs::remove(dir / kRecord, ec);
}

JoinedCgroup::JoinedCgroup(const std::vector<std::pair<CgroupHierarchy, fs::path>>& to) {
  const std::string self = read_cgroup_file("/proc/self/cgroup");
  const std::string pid = std::to_string(::getpid());
  try {
    for (const auto& [h, dir] : to) {
      auto from = cgroup_in(self, h);
      if (!from)
        fail("cannot join cgroup {}: this process is in none of its hierarchy", dir.string());
      write_cgroup_file(dir / "cgroup.procs", pid);
      from_.push_back(h.mount / *from);
    }
  } catch (...) {
    leave();
    throw;
  }
}

void JoinedCgroup::leave() noexcept {
  const std::string pid = std::to_string(::getpid());
  for (const auto& dir : from_) {
    try {
      write_cgroup_file(dir / "cgroup.procs", pid);
    } catch (const Error& e) {
      spdlog::warn("{}", e.what());
    }
  }
  from_.clear();
}

JoinedCgroup::~JoinedCgroup() { leave(); }

}  // namespace vmrt::sandbox
