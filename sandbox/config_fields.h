#pragma once
// The field table of the runtime configuration: every key of config.toml
// once, with the member it sets, the rule its value meets (config_rules.h,
// which names the key), its name in to_json and in the io.vmrt.config.*
// annotations, how a pod's annotation may change it, and its comment. The
// file parser, validate(), the annotation policy, to_json(),
// default_config_toml() and the documentation's test all walk this one
// list, so a key cannot be read but not checked, or documented but not read.
// The defaults stay with the members (config.h's initializers, so that
// RuntimeConfig{} has them; default_config() for the build's paths and the
// host's maxima), and whatever walks the table reads them from there. As in
// common/oci/spec_fields.h, visit_fields takes the config as T or const T,
// so readers fill one and checkers walk a const one.
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
  // Its comment in default_config_toml(), lines without the "# ". fmt
  // fields: {min} and {max} of an integer rule, {names} of an enum rule,
  // {max_vcpus} and {max_mem}, this host's annotation maxima.
  const char* comment = nullptr;
  // When set, default_config_toml() shows the key commented out with this
  // value, not its default: the default depends on the host.
  const char* example = nullptr;
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
  v(kVmm, c.vmm,
    Info{.name = "vmm",
         .override = FileOnly,
         .doc_default = "install prefix + `/bin/vmrt-vmm`",
         .comment = "The VMM binary (absolute path)."});
  v(kKernel, c.kernel,
    Info{.name = "kernel",
         .override = FileOnly,
         .doc_default = "install prefix + `/share/vmrt/vmlinux`",
         .comment = "The guest kernel: ELF vmlinux or bzImage (absolute path)."});
  v(kImage, c.image,
    Info{.name = "image",
         .override = FileOnly,
         .doc_default = "install prefix + `/share/vmrt/initramfs.cpio.gz`",
         .comment = "The guest image: an initramfs with vmrt-agent as /init (absolute path)."});
  v(kKernelParams, c.kernel_params,
    Info{.name = "kernel_params",
         .override = Appended,
         .comment = "Appended to the guest kernel command line."});
  v(kVcpus, c.vcpus,
    Info{.name = "vcpus",
         .override = Allowed,
         .comment = "Virtual CPUs of a sandbox VM ({min} to {max})."},
    Limit{&kMaxVcpus, p.max_vcpus});
  v(kMemory, c.memory_mib,
    Info{.name = "memory_mib",
         .override = Allowed,
         .comment = "Guest memory in MiB ({min} to {max})."},
    Limit{&kMaxMemory, p.max_memory_mib});
  v(kBootTimeout, c.boot_timeout,
    Info{
        .name = "boot_timeout_s",
        .override = Allowed,
        .comment = "Seconds from starting the VMM to the guest agent answering ({min} to {max})."});
  v(kTemplate, c.template_vm,
    Info{.name = "template",
         .override = FileOnly,
         .comment = "Start each sandbox by restoring a snapshot of a VM booted once to \"agent\n"
                    "ready\" (one per kernel, image, vCPUs and memory), its memory shared\n"
                    "copy-on-write with every other sandbox restored from it, instead of booting\n"
                    "a kernel. false: always boot."});
  v(kTemplateDir, c.template_dir,
    Info{.name = "template_dir",
         .override = FileOnly,
         .comment = "Where VM templates are kept, one directory each (a tmpfs: restored VMs map\n"
                    "a template's memory file)."});
  v(kTemplateMemory, c.template_memory,
    Info{.name = "template_memory",
         .override = FileOnly,
         .comment =
             "shared: restored sandboxes map a template's memory copy-on-write (held once);\n"
             "private: each copies it, so that no two tenants share a page of memory."});
  v(kFsCache, c.fs_cache,
    Info{.name = "fs_cache",
         .override = Allowed,
         .comment = "How much the guest may cache of the shared container rootfs:\n"
                    "  none: nothing, host changes are seen at once; auto: names and attributes\n"
                    "  for a second, data while the file is unchanged; always: everything for a\n"
                    "  day (fastest, for trees only the guest changes)."});
  v(kLogLevel, c.log_level,
    Info{.name = "log_level",
         .override = FileOnly,
         .comment = "trace, debug, info, warn, error, critical or off."});
  v(kJail, c.jail,
    Info{.name = "jail",
         .comment = "Confine each VMM: its own mount, IPC and pid namespaces with a root that\n"
                    "holds only its kernel, image, sockets and shared directory; then running\n"
                    "as uid/gid below with no capabilities but the file ones virtio-fs needs,\n"
                    "and inside a cgroup of its own whose memory and CPU limits follow the VM's\n"
                    "size. false only for debugging."});
  v(kJailUid, c.jail_uid,
    Info{.name = "jail_uid",
         .comment = "The unprivileged uid and gid a VMM drops to ({min} to {max}). A uid\n"
                    "of its own keeps other processes of that uid from signalling the VMMs."});
  v(kJailGid, c.jail_gid, Info{.name = "jail_gid"});
  v(kCgroupParent, c.cgroup_parent,
    Info{.name = "cgroup_parent",
         .comment = "Where the VMMs' cgroups go, below the cgroup root (cgroup2's, else each\n"
                    "v1 hierarchy's): <cgroup_parent>/vmm-<sandbox>.\n"
                    "\"\" keeps each VMM in its runtime's cgroup, without limits."});
  v(kPodCgroup, c.pod_cgroup,
    Info{.name = "pod_cgroup",
         .comment = "A sandbox whose spec has linux.cgroupsPath (a Kubernetes pod's) puts its\n"
                    "VMM in <cgroupsPath>/vmm, with the limits above, and its runtime in\n"
                    "<cgroupsPath>/shim, so that the pod's cgroup accounts for its VM.\n"
                    "false: <cgroup_parent>/vmm-<sandbox> as without one."});
  v(kAllowable, p.allowed,
    Info{.name = "allowed_annotations",
         .comment = "Which io.vmrt.config.<key> annotations of a pod's spec are honoured: any of\n"
                    "{names}. Any other one is\n"
                    "refused: the container is not created."});
  v(kAnnotationKernelParams, p.kernel_params,
    Info{.name = "annotation_kernel_params",
         .comment = "Whether io.vmrt.config.kernel_params may append guest kernel parameters.\n"
                    "They can undo the guest's hardening (or replace its init): only for pods\n"
                    "as trusted as this host."});
  v(kMaxVcpus, p.max_vcpus,
    Info{.name = "annotation_max_vcpus",
         .doc_default = "the host's online CPUs",
         .comment = "The most a vcpus annotation and a memory_mib annotation (MiB) may ask\n"
                    "for, within the hypervisor's ranges, and the most a pod's VM grows to\n"
                    "with its containers' limits. Without these keys: the host's\n"
                    "online CPUs and half its memory (on the host that wrote this file,\n"
                    "{max_vcpus} and {max_mem}).",
         .example = "4"});
  v(kMaxMemory, p.max_memory_mib,
    Info{.name = "annotation_max_memory_mib",
         .doc_default = "half the host's memory",
         .example = "8192"});
  v(kDebugConsole, c.debug_console,
    Info{.name = "debug_console",
         .override = FileOnly,
         .comment = "Allow `vmrt debug-console`: a root shell in a sandbox's guest, outside\n"
                    "every container, as the agent runs, for a guest that is stuck. Each\n"
                    "sandbox's agent is told at its start and refuses the shell otherwise;\n"
                    "sandboxes keep what they were started with. Needs a guest image with\n"
                    "/bin/sh (initramfs-debug.cpio.gz). Only for debugging."});
}

}  // namespace vmrt::sandbox::fields
