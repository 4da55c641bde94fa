// The io.vmrt.config.* annotations of a sandbox's spec, under the operator's
// policy (the [annotations] table): a pod's spec is less trusted than the
// host's file, so what is not allowed is refused, never ignored or clamped,
// before anything of the sandbox exists.
#include <charconv>

#include "common/error.h"
#include "sandbox/config.h"
#include "sandbox/config_rules.h"

namespace vmrt::sandbox {

namespace {

using namespace rules;

// A decimal number without sign, spaces or suffix, within `r`.
int64_t annotation_integer(const std::string& name, const std::string& value, const Int& r) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  bool digits = !value.empty() && value[0] != '-';
  if (!digits || ec != std::errc() || end != value.data() + value.size() || v < r.min || v > r.max)
    fail("annotation {}: {}, got \"{}\"", name, expected(r), value);
  return v;
}

// `value` of annotation `name` within the operator's maximum `limit`.
template <typename T>
T at_most(const std::string& name, int64_t value, T limit, const Int& limit_key,
          const RuntimeConfig& c) {
  if (uint64_t(value) > uint64_t(limit))
    fail("annotation {}: {} is above the limit of {} ({} in {})", name, value, limit, limit_key.key,
         origin(c));
  return static_cast<T>(value);
}

}  // namespace

RuntimeConfig apply_annotations(RuntimeConfig c,
                                const std::map<std::string, std::string>& annotations) {
  const std::string_view prefix = kAnnotationPrefix;
  const AnnotationPolicy& policy = c.annotations;
  for (const auto& [name, value] : annotations) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    std::string key = name.substr(prefix.size());
    if (key == "vmm" || key == "kernel" || key == "image" || key == "log_level")
      fail("annotation {}: only the runtime configuration file sets {}", name, key);
    if (key == "kernel_params") {
      if (!policy.kernel_params)
        fail(
            "annotation {}: not allowed: guest kernel parameters from a pod need "
            "annotations.kernel_params = true in {}",
            name, origin(c));
      if (!printable(value)) fail("annotation {}: {}", name, kExpectedParams);
      // Added to the host's parameters, which the pod must not be able to drop.
      if (!value.empty())
        c.kernel_params = c.kernel_params.empty() ? value : c.kernel_params + " " + value;
      continue;
    }
    if (!in(kAllowable, key))
      fail(
          "annotation {}: unknown key \"{}\" (known: vcpus, memory_mib, kernel_params, "
          "fs_cache, boot_timeout_s)",
          name, key);
    if (!policy.allowed.count(key))
      fail("annotation {}: not allowed by {} (annotations.allowed = [{}])", name, origin(c),
           fmt::join(policy.allowed, ", "));
    if (key == "vcpus") {
      c.vcpus =
          at_most(name, annotation_integer(name, value, kVcpus), policy.max_vcpus, kMaxVcpus, c);
    } else if (key == "memory_mib") {
      c.memory_mib = at_most(name, annotation_integer(name, value, kMemory), policy.max_memory_mib,
                             kMaxMemory, c);
    } else if (key == "boot_timeout_s") {
      c.boot_timeout = std::chrono::seconds(annotation_integer(name, value, kBootTimeout));
    } else {  // fs_cache
      if (!in(kFsCache, value))
        fail("annotation {}: {}, got \"{}\"", name, expected(kFsCache), value);
      c.fs_cache = value;
    }
  }
  return c;
}

RuntimeConfig sandbox_config(const std::filesystem::path& path,
                             const std::map<std::string, std::string>& annotations) {
  RuntimeConfig c = apply_annotations(load_runtime_config(path), annotations);
  validate(c);
  return c;
}

}  // namespace vmrt::sandbox
