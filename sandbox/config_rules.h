#pragma once
// The rules a runtime configuration value must meet, one per key of the
// file and each naming its key, stated once for the file parser (config.cpp),
// the annotation policy (config_annotations.cpp) and validate(); the field
// table (config_fields.h) says which member each rule governs. Internal to
// vmrt_sandbox_config and its tests.

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/config.h"

namespace vmrt::sandbox::rules {

// An integer key and the values it accepts.
struct Int {
  const char* key;  // as in the file: "hypervisor.vcpus"
  int64_t min, max;
};
inline constexpr Int kVcpus{"hypervisor.vcpus", 1, 64};
inline constexpr Int kMemory{"hypervisor.memory_mib", 64, int64_t{1} << 20};
inline constexpr Int kBootTimeout{"hypervisor.boot_timeout_s", 1, 3600};
inline constexpr Int kJailUid{"jail.uid", 1, 4294967294};
inline constexpr Int kJailGid{"jail.gid", 1, 4294967294};
// The maxima of what annotations may ask for take the sizes' own ranges.
inline constexpr Int kMaxVcpus{"annotations.max_vcpus", kVcpus.min, kVcpus.max};
inline constexpr Int kMaxMemory{"annotations.max_memory_mib", kMemory.min, kMemory.max};

// A string key that takes one of a few names.
struct Enum {
  const char* key;
  std::vector<std::string_view> names;
};
inline const Enum kTemplateMemory{"hypervisor.template_memory", {"shared", "private"}};
inline const Enum kFsCache{"virtiofs.cache", {"none", "auto", "always"}};
// The names common/log.h accepts (spdlog also takes aliases such as "err";
// the file sticks to one spelling).
inline const Enum kLogLevel{"log.level",
                            {"trace", "debug", "info", "warn", "error", "critical", "off"}};
// The io.vmrt.config.<key> annotations an operator may allow. kernel_params
// is not one of them: it has a switch of its own (annotations.kernel_params).
inline const Enum kAllowable{"annotations.allowed",
                             {"vcpus", "memory_mib", "fs_cache", "boot_timeout_s"}};

// An absolute path to a file validate() requires: executable when `exec`,
// else readable. Relative paths would depend on the caller's working
// directory.
struct Path {
  const char* key;
  bool exec;
};
inline constexpr Path kVmm{"hypervisor.vmm", true};
inline constexpr Path kKernel{"hypervisor.kernel", false};
inline constexpr Path kImage{"hypervisor.image", false};

// An absolute path to a directory the runtime creates when it is missing.
struct Dir {
  const char* key;
};
inline constexpr Dir kTemplateDir{"hypervisor.template_dir"};

// Words for the guest kernel command line (see printable()).
struct Params {
  const char* key;
};
inline constexpr Params kKernelParams{"hypervisor.kernel_params"};

struct Bool {
  const char* key;
};
inline constexpr Bool kJail{"jail.enabled"};
inline constexpr Bool kPodCgroup{"jail.pod_cgroup"};
inline constexpr Bool kTemplate{"hypervisor.template"};
// Whether io.vmrt.config.kernel_params is honoured: a switch of its own.
inline constexpr Bool kAnnotationKernelParams{"annotations.kernel_params"};
// Whether `vmrt debug-console` may open a root shell in a sandbox's guest.
inline constexpr Bool kDebugConsole{"debug.console"};

// A cgroup below the cgroup2 root: relative, no "." or ".." steps; "" for none.
struct Cgroup {
  const char* key;
};
inline constexpr Cgroup kCgroupParent{"jail.cgroup_parent"};

inline std::string expected(const Int& r) {
  return fmt::format("expected an integer from {} to {}", r.min, r.max);
}
inline std::string expected(const Enum& e) {
  return fmt::format("expected one of {}", fmt::join(e.names, ", "));
}

inline bool in(const Enum& e, std::string_view value) {
  return std::find(e.names.begin(), e.names.end(), value) != e.names.end();
}

// The kernel command line is one line of space-separated words; a control
// character would end or corrupt it.
inline bool printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}
inline constexpr const char* kExpectedParams = "expected printable ASCII (no control characters)";

inline bool cgroup_ok(const std::string& p) {
  std::filesystem::path path(p);
  bool ok = path.is_relative();
  for (const auto& step : path) ok &= step != "." && step != ".." && !step.empty();
  return ok && printable(p);
}
inline std::string expected_cgroup(const std::string& p) {
  return fmt::format(
      "expected a cgroup path relative to the cgroup2 root such as \"vmrt\", got \"{}\"", p);
}

// "the file" in messages about a configuration that may be the defaults.
inline std::string origin(const RuntimeConfig& c) {
  return c.source.empty() ? std::string("built-in configuration") : c.source.string();
}

}  // namespace vmrt::sandbox::rules
