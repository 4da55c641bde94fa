#pragma once
// The runtime configuration shared by the vmrt CLI and the shim: which VMM,
// guest kernel and guest image to use and how large a sandbox VM is. Read
// from a TOML file (default /etc/vmrt/config.toml), then changed per sandbox
// by the OCI annotations io.vmrt.config.* that the file's [annotations]
// policy allows (none by default).
//
// Every key is optional (a missing key keeps the built-in default) and is
// listed once, with its rule and its annotation, in the field table
// (config_fields.h); docs/configuration.md's table of keys is checked
// against it, and default_config_toml() writes the file from it.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

namespace vmrt::sandbox {

inline constexpr const char* kDefaultConfigPath = "/etc/vmrt/config.toml";
inline constexpr const char* kAnnotationPrefix = "io.vmrt.config.";

// What the io.vmrt.config.* annotations of a sandbox's spec may change. A
// pod's spec is less trusted than the host's file: by default it may change
// nothing, and what it may change is bounded.
struct AnnotationPolicy {
  std::set<std::string> allowed;  // keys of io.vmrt.config.<key>, kernel_params excepted
  // Whether io.vmrt.config.kernel_params may add guest kernel parameters: a
  // separate switch, since parameters can undo the guest's hardening.
  bool kernel_params = false;
  // The most an allowed vcpus / memory_mib annotation may ask for. The
  // defaults (default_config) come from the host: its online CPUs and half
  // its memory, within the sizes' ranges.
  uint32_t max_vcpus = 1;
  uint64_t max_memory_mib = 256;

  bool operator==(const AnnotationPolicy&) const = default;
};

struct RuntimeConfig {
  std::filesystem::path vmm;
  std::filesystem::path kernel;
  std::filesystem::path image;
  std::string kernel_params;
  uint32_t vcpus = 1;
  uint64_t memory_mib = 256;
  std::chrono::seconds boot_timeout{30};
  std::string fs_cache = "auto";
  // Start sandboxes by restoring a snapshot of a VM booted to "agent ready"
  // (sandbox/vm_template.h) instead of booting; a cold boot when none can
  // be made.
  bool template_vm = true;
  std::filesystem::path template_dir =
      "/run/vmrt-templates";  // where templates are kept (not in the CLI's root)
  // "shared": restored VMs map the template's memory copy-on-write;
  // "private": each copies it (vmrt-vmm --restore-copy).
  std::string template_memory = "shared";
  std::string log_level = "info";
  // The VMM's confinement (vmm/security/jail.h): on unless turned off for
  // debugging; the uid/gid it drops to; the cgroup (below the cgroup2 root)
  // its per-VM cgroup goes in, "" for none.
  bool jail = true;
  uint32_t jail_uid = 65534;
  uint32_t jail_gid = 65534;
  std::string cgroup_parent = "vmrt";
  // A sandbox whose spec names its cgroup (linux.cgroupsPath: a pod's, from
  // the kubelet) has its VMM and runtime there instead, so that the pod's
  // cgroup accounts for what its VM costs.
  bool pod_cgroup = true;
  AnnotationPolicy annotations;
  // Whether a root shell in the guest, outside every container (vmrt
  // debug-console), may be opened: told to each sandbox's agent when it is
  // created, which refuses such a shell without it. Off: the operator's
  // own debugging switch, never a pod's.
  bool debug_console = false;
  // The file the values came from; empty for the built-in defaults.
  std::filesystem::path source;

  // Every field, source included: a new field cannot be left out.
  bool operator==(const RuntimeConfig&) const = default;
};

// Built-in defaults: the paths `cmake --install` puts the VMM, kernel and
// image at (under the configured install prefix); annotation maxima from
// this host.
RuntimeConfig default_config();

// Parses TOML `text` over `base`. Errors are vmrt::Error naming `source`,
// the line and the key, e.g.
//   /etc/vmrt/config.toml:4:9: hypervisor.vcpus: expected an integer from 1 to 64, got 65
//   /etc/vmrt/config.toml:3:7: unknown key "hypervisor.vcpu"
// Unknown tables and keys are errors (a typo must not silently fall back to
// a default). Paths must be absolute; the result's `source` is `source`.
RuntimeConfig parse_config(std::string_view text, const std::string& source,
                           RuntimeConfig base = default_config());

// Reads `path`. A missing file is an error when `must_exist` (the user named
// it); otherwise it yields default_config() (source stays empty).
RuntimeConfig load_config(const std::filesystem::path& path, bool must_exist);

// The file the CLI and the shim read: `path` (which must exist) or, when
// empty, kDefaultConfigPath (which may be absent: the built-in defaults).
RuntimeConfig load_runtime_config(const std::filesystem::path& path);

// Applies the io.vmrt.config.* annotations of a sandbox's OCI spec under
// config.annotations: vcpus, memory_mib, fs_cache, boot_timeout_s (decimal
// integers or names, the file's ranges) when listed in `allowed`, and
// kernel_params (appended to the file's parameters, never replacing them)
// when its switch is on. vcpus and memory_mib must not exceed the maxima.
// Paths (vmm, kernel, image) and log_level can never be chosen by
// annotations. Annotations without the prefix are ignored; any other
// io.vmrt.config.* annotation (not allowed, unknown key, bad value, above a
// maximum) is an error naming the annotation and the rule or limit.
RuntimeConfig apply_annotations(RuntimeConfig config,
                                const std::map<std::string, std::string>& annotations);

// What a sandbox runs with, got the same way by the CLI and the shim:
// load_runtime_config(path), apply_annotations, validate. Throws
// vmrt::Error before anything of the sandbox exists.
RuntimeConfig sandbox_config(const std::filesystem::path& path,
                             const std::map<std::string, std::string>& annotations);

// Throws vmrt::Error naming the key and the file for values out of range and
// for missing vmm/kernel/image files (checked here, before a VMM is started,
// so the message names the configuration rather than the VMM's own error).
void validate(const RuntimeConfig& config);

// The documented default file: every key of the field table with its
// default and its comment.
std::string default_config_toml();

// For `vmrt features` and logs: every key with its value and "source".
// The keys are the annotation names: vmm, kernel, image, kernel_params,
// vcpus, memory_mib, boot_timeout_s, fs_cache, log_level, source; and the
// jail's and the annotation policy's settings.
nlohmann::json to_json(const RuntimeConfig& config);

}  // namespace vmrt::sandbox
