#pragma once
// Writing a VMM cgroup's limits, in cgroup v2's files or v1's.

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace vmrt::sandbox {

struct VmmLimits;

inline constexpr uint64_t kCpuPeriodUs = 100'000;

// write_cgroup_file, with what the write was for and how to do without
// cgroups for the VMMs.
void write_cgroup_file_for(const std::filesystem::path& file, const std::string& value,
                           const std::string& why);

// memory.max, cpu.max, pids.max of cgroup v2 directory `dir`.
void write_v2_limits(const std::filesystem::path& dir, const VmmLimits& limits);

// memory.limit_in_bytes, and memory.memsw.limit_in_bytes to the same where
// swap is accounted (no swap), in the order v1 accepts (memsw never below
// the limit).
void write_v1_memory_limit(const std::filesystem::path& dir, uint64_t bytes);

// cpu.cfs_period_us and cpu.cfs_quota_us of `dir` in the v1 hierarchy
// mounted at `root`: v1 refuses a quota above an ancestor's, so the quota is
// at most the smallest of theirs (the pod's limit).
void write_v1_cpu_quota(const std::filesystem::path& root, const std::filesystem::path& dir,
                        uint64_t quota_us);

// The smallest quota per kCpuPeriodUs allowed by ancestors' (quota, period)
// pairs (a quota < 0 is none), and `want` when none is smaller.
uint64_t clamp_cpu_quota(uint64_t want, const std::vector<std::pair<int64_t, uint64_t>>& ancestors);

}  // namespace vmrt::sandbox
