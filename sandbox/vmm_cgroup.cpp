#include "sandbox/vmm_cgroup.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/cgroup_files.h"
#include "common/error.h"

namespace vmrt::sandbox {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr uint64_t kPeriodUs = 100'000;
constexpr const char* kRecord = "vmm.cgroup";

// rmdir, retried while a VMM just killed is still leaving it.
void remove_cgroup_dir(const fs::path& path) {
  for (int i = 0; i < 200; ++i) {
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY) break;
    std::this_thread::sleep_for(10ms);
  }
  spdlog::warn("cannot remove cgroup {}: {}", path.string(), std::strerror(errno));
}

// write_cgroup_file, with what the write was for and how to do without.
void write_file(const fs::path& file, const std::string& value, const std::string& why) {
  try {
    write_cgroup_file(file, value);
  } catch (const Error& e) {
    throw Error(fmt::format("{} ({}); set jail.cgroup_parent = \"\" to run VMMs without a "
                            "cgroup of their own",
                            e.what(), why),
                e.code());
  }
}

// Lets the children of `dir` use the controllers (each must be enabled in
// every ancestor, the root's included).
void enable_controllers(const fs::path& dir) {
  std::set<std::string> enabled = cgroup_words(read_cgroup_file(dir / "cgroup.subtree_control"));
  for (const char* c : {"memory", "cpu", "pids"})
    if (!enabled.count(c))
      write_file(dir / "cgroup.subtree_control", std::string("+") + c,
                 "enabling the controller for the VMMs' cgroups");
}

}  // namespace

VmmLimits limits_for(uint32_t vcpus, uint64_t memory_mib) {
  const uint64_t overhead_mib = 64 + memory_mib / 8;
  return {.memory_bytes = (memory_mib + overhead_mib) << 20,
          .cpu_quota_us = (vcpus + 1) * kPeriodUs,
          .max_tasks = 64 + 2 * uint64_t{vcpus}};
}

void record_cgroup(const fs::path& dir, const fs::path& cgroup) {
  std::ofstream(dir / kRecord, std::ios::trunc) << cgroup.string() << "\n";
}

void remove_left_cgroup(const fs::path& dir) {
  std::string path;
  if (!std::getline(std::ifstream(dir / kRecord), path) || path.empty()) return;
  // Only what a sandbox made: a directory named vmm-* in cgroup2.
  if (!fs::path(path).filename().string().starts_with("vmm-")) return;
  remove_cgroup_dir(path);
  std::error_code ec;
  fs::remove(dir / kRecord, ec);
}

fs::path cgroup2_root() {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    // ... mount-point ... - fstype source options
    size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string id, parent, dev, root, mount_point;
    fields >> id >> parent >> dev >> root >> mount_point;
    if (root == "/") return mount_point;
  }
  return {};
}

VmmCgroup VmmCgroup::create(const std::string& parent, const std::string& name,
                            const VmmLimits& limits) {
  fs::path root = cgroup2_root();
  if (root.empty())
    fail(
        "no cgroup2 hierarchy is mounted for the VMMs' cgroups; set jail.cgroup_parent = \"\" "
        "to run VMMs without one");
  fs::path dir = root;
  enable_controllers(dir);
  for (const auto& step : fs::path(parent)) {
    dir /= step;
    std::error_code ec;
    fs::create_directory(dir, ec);
    if (ec)
      throw Error(fmt::format("cannot create cgroup {}: {}", dir.string(), ec.message()),
                  ec.value());
    enable_controllers(dir);
  }
  fs::path path = dir / name;
  // One left by a VMM whose runtime was killed: empty, so it can go.
  if (::mkdir(path.c_str(), 0755) != 0 &&
      (errno != EEXIST || ::rmdir(path.c_str()) != 0 || ::mkdir(path.c_str(), 0755) != 0))
    throw_errno("cannot create cgroup " + path.string());
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    ::rmdir(path.c_str());
    throw_errno("cannot open cgroup " + path.string(), err);
  }
  VmmCgroup cg(path, std::move(fd));  // removes it again if what follows fails
  write_file(path / "memory.max", std::to_string(limits.memory_bytes), "the VMM's memory limit");
  // Guest memory must not be pushed out to swap behind the guest's back
  // (where the kernel accounts swap at all).
  if (fs::exists(path / "memory.swap.max"))
    write_file(path / "memory.swap.max", "0", "the VMM's swap limit");
  write_file(path / "cpu.max", fmt::format("{} {}", limits.cpu_quota_us, kPeriodUs),
             "the VMM's CPU limit");
  write_file(path / "pids.max", std::to_string(limits.max_tasks), "the VMM's task limit");
  return cg;
}

namespace {

void move_self_to(const fs::path& cgroup) {
  write_file(cgroup / "cgroup.procs", std::to_string(::getpid()), "a move into cgroup");
}

}  // namespace

JoinedCgroup::JoinedCgroup(const fs::path& cgroup) {
  // cgroup2's line in /proc/self/cgroup is "0::/path".
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("0::", 0) == 0)
      from_ = cgroup2_root() / fs::path(line.substr(3)).relative_path();
  if (from_.empty())
    fail("cannot join cgroup {}: this process is in no cgroup2 group", cgroup.string());
  move_self_to(cgroup);
}

JoinedCgroup::~JoinedCgroup() {
  try {
    move_self_to(from_);
  } catch (const Error& e) {
    spdlog::warn("{}", e.what());
  }
}

VmmCgroup::~VmmCgroup() {
  if (path_.empty() || !fd_) return;
  fd_.reset();
  remove_cgroup_dir(path_);
}

}  // namespace vmrt::sandbox
