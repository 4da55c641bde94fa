#pragma once
// The field table of the runtime configuration: every key of config.toml
// once, with the member it sets, the rule its value meets (config_rules.h,
// which names the key), its name in to_json and in the io.vmrt.config.*
// annotations, and how a pod's annotation may change it. The file parser,
// validate(), the annotation policy and the documentation's test all walk
// this one list, so a key cannot be read but not checked, or documented but
// not read. As in common/oci/spec_fields.h, visit_fields takes the config as
// T or const T, so readers fill one and checkers walk a const one.
// Internal to vmrt_sandbox_config and its tests.

#include <chrono>
#include <concepts>
#include <cstdint>

#include "common/json_fields.h"
#include "sandbox/config.h"
#include "sandbox/config_rules.h"

namespace vmrt::sandbox::fields {

// What the annotation io.vmrt.config.<Info::name> of a pod's spec may do.
enum class Override {
  None,      // there is no such annotation: an unknown key
  FileOnly,  // the annotation is refused: only the file sets this
  Allowed,   // set when annotations.allowed lists the name
  Appended,  // appended to the file's value under a switch of its own
};

// A key's names besides its TOML key, which its rule carries.
struct Info {
  // In to_json; for an Override other than None also the annotation's name.
  const char* name;
  Override override = Override::None;
  // What the documentation shows as the default when it depends on the
  // build or the host; null: the value of default_config().
  const char* doc_default = nullptr;
};

// The operator's maximum for an Allowed annotation: the key that sets it and
// its value in the configuration being changed.
struct Limit {
  const rules::Int* rule = nullptr;
  uint64_t value = 0;
};

// An integer member's value, and setting it from a checked value.
inline int64_t int_of(std::chrono::seconds s) { return s.count(); }
template <std::integral T>
T int_of(T v) {
  return v;
}
template <std::integral T>
void set_int(T& member, int64_t v) {
  member = static_cast<T>(v);
}
inline void set_int(std::chrono::seconds& member, int64_t v) { member = std::chrono::seconds(v); }

// Calls v(rule, member, info) or v(rule, member, info, limit) for every key,
// in the order of the file's tables.
void visit_fields(auto& v, json_fields::Is<RuntimeConfig> auto& c) {
  using namespace rules;
  using enum Override;
  auto& p = c.annotations;
  v(kVmm, c.vmm, Info{"vmm", FileOnly, "install prefix + `/bin/vmrt-vmm`"});
  v(kKernel, c.kernel, Info{"kernel", FileOnly, "install prefix + `/share/vmrt/vmlinux`"});
  v(kImage, c.image, Info{"image", FileOnly, "install prefix + `/share/vmrt/initramfs.cpio.gz`"});
  v(kKernelParams, c.kernel_params, Info{"kernel_params", Appended});
  v(kVcpus, c.vcpus, Info{"vcpus", Allowed}, Limit{&kMaxVcpus, p.max_vcpus});
  v(kMemory, c.memory_mib, Info{"memory_mib", Allowed}, Limit{&kMaxMemory, p.max_memory_mib});
  v(kBootTimeout, c.boot_timeout, Info{"boot_timeout_s", Allowed});
  v(kFsCache, c.fs_cache, Info{"fs_cache", Allowed});
  v(kLogLevel, c.log_level, Info{"log_level", FileOnly});
  v(kJail, c.jail, Info{"jail"});
  v(kJailUid, c.jail_uid, Info{"jail_uid"});
  v(kJailGid, c.jail_gid, Info{"jail_gid"});
  v(kCgroupParent, c.cgroup_parent, Info{"cgroup_parent"});
  v(kAllowable, p.allowed, Info{"allowed_annotations"});
  v(kAnnotationKernelParams, p.kernel_params, Info{"annotation_kernel_params"});
  v(kMaxVcpus, p.max_vcpus, Info{"annotation_max_vcpus", None, "the host's online CPUs"});
  v(kMaxMemory, p.max_memory_mib,
    Info{"annotation_max_memory_mib", None, "half the host's memory"});
}

}  // namespace vmrt::sandbox::fields
