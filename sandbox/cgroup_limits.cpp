#include "sandbox/cgroup_limits.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/cgroup_files.h"
#include "common/error.h"
#include "sandbox/vmm_cgroup.h"

namespace vmrt::sandbox {

namespace fs = std::filesystem;

void write_cgroup_file_for(const fs::path& file, const std::string& value, const std::string& why) {
  try {
    write_cgroup_file(file, value);
  } catch (const Error& e) {
    throw Error(fmt::format("{} ({}); set jail.pod_cgroup = false and jail.cgroup_parent = \"\" "
                            "to run VMMs without cgroups of their own",
                            e.what(), why),
                e.code());
  }
}

void write_v2_limits(const fs::path& dir, const VmmLimits& limits) {
  write_cgroup_file_for(dir / "memory.max", std::to_string(limits.memory_bytes),
                        "the VMM's memory limit");
  write_cgroup_file_for(dir / "cpu.max", fmt::format("{} {}", limits.cpu_quota_us, kCpuPeriodUs),
                        "the VMM's CPU limit");
  write_cgroup_file_for(dir / "pids.max", std::to_string(limits.max_tasks), "the VMM's task limit");
}

void write_v1_memory_limit(const fs::path& dir, uint64_t bytes) {
  const fs::path limit = dir / "memory.limit_in_bytes", memsw = dir / "memory.memsw.limit_in_bytes";
  const std::string value = std::to_string(bytes);
  const bool has_memsw = fs::exists(memsw);
  uint64_t now = std::stoull(read_cgroup_file(limit));
  // memsw may never be below the limit: it goes first when growing.
  if (has_memsw && bytes > now) write_cgroup_file_for(memsw, value, "the VMM's swap limit");
  write_cgroup_file_for(limit, value, "the VMM's memory limit");
  if (has_memsw && bytes <= now) write_cgroup_file_for(memsw, value, "the VMM's swap limit");
}

uint64_t clamp_cpu_quota(uint64_t want,
                         const std::vector<std::pair<int64_t, uint64_t>>& ancestors) {
  for (const auto& [quota, period] : ancestors)
    if (quota > 0 && period > 0)
      want = std::min(want, static_cast<uint64_t>(quota) * kCpuPeriodUs / period);
  return want;
}

void write_v1_cpu_quota(const fs::path& root, const fs::path& dir, uint64_t quota_us) {
  std::vector<std::pair<int64_t, uint64_t>> ancestors;
  for (fs::path p = dir.parent_path(); p != root && p.string().size() > root.string().size();
       p = p.parent_path())
    ancestors.emplace_back(std::stoll(read_cgroup_file(p / "cpu.cfs_quota_us")),
                           std::stoull(read_cgroup_file(p / "cpu.cfs_period_us")));
  write_cgroup_file_for(dir / "cpu.cfs_period_us", std::to_string(kCpuPeriodUs),
                        "the VMM's CPU period");
  write_cgroup_file_for(dir / "cpu.cfs_quota_us",
                        std::to_string(clamp_cpu_quota(quota_us, ancestors)),
                        "the VMM's CPU limit");
}

}  // namespace vmrt::sandbox
