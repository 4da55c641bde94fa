// What `vmrt features` reports. Each list is what the guest agent's
// translation of config.json accepts (agent/container/), not what the OCI
// spec allows: a caller that relies on a listed feature must get it.
#include "tools/vmrt/features.h"

#include <string>
#include <vector>

#include "sandbox/vm_size.h"

namespace vmrt::cli {

namespace {

using nlohmann::json;
using Strings = std::vector<std::string>;

// The model in common/oci reads runtime-spec 1.0 and 1.1 documents.
constexpr const char* kOciVersionMin = "1.0.0";
constexpr const char* kOciVersionMax = "1.1.0";

// mounts.cpp: the options it turns into mount flags, propagation or a bind.
// Anything else is handed to the filesystem as data, except the ones it
// refuses (idmap, ridmap, rro, rrw), which are not listed. tmpcopyup is
// runc's extension (copy_up.h).
const Strings kMountOptions = {"async",     "atime",       "bind",        "defaults",
                               "dev",       "diratime",    "dirsync",     "exec",
                               "mand",      "noatime",     "nodev",       "nodiratime",
                               "noexec",    "nomand",      "norelatime",  "nostrictatime",
                               "nosuid",    "nosymfollow", "private",     "rbind",
                               "relatime",  "remount",     "ro",          "rprivate",
                               "rshared",   "rslave",      "runbindable", "rw",
                               "shared",    "slave",       "strictatime", "suid",
                               "symfollow", "sync",        "tmpcopyup",   "unbindable"};

// namespaces.cpp refuses user and time namespaces: the VM is the boundary
// they would add.
const Strings kNamespaces = {"cgroup", "ipc", "mount", "network", "pid", "uts"};

// capabilities.cpp takes any name libcap knows; these are the ones the
// guest kernel (6.1) has, in kernel order.
const Strings kCapabilities = {"CAP_CHOWN",
                               "CAP_DAC_OVERRIDE",
                               "CAP_DAC_READ_SEARCH",
                               "CAP_FOWNER",
                               "CAP_FSETID",
                               "CAP_KILL",
                               "CAP_SETGID",
                               "CAP_SETUID",
                               "CAP_SETPCAP",
                               "CAP_LINUX_IMMUTABLE",
                               "CAP_NET_BIND_SERVICE",
                               "CAP_NET_BROADCAST",
                               "CAP_NET_ADMIN",
                               "CAP_NET_RAW",
                               "CAP_IPC_LOCK",
                               "CAP_IPC_OWNER",
                               "CAP_SYS_MODULE",
                               "CAP_SYS_RAWIO",
                               "CAP_SYS_CHROOT",
                               "CAP_SYS_PTRACE",
                               "CAP_SYS_PACCT",
                               "CAP_SYS_ADMIN",
                               "CAP_SYS_BOOT",
                               "CAP_SYS_NICE",
                               "CAP_SYS_RESOURCE",
                               "CAP_SYS_TIME",
                               "CAP_SYS_TTY_CONFIG",
                               "CAP_MKNOD",
                               "CAP_LEASE",
                               "CAP_AUDIT_WRITE",
                               "CAP_AUDIT_CONTROL",
                               "CAP_SETFCAP",
                               "CAP_MAC_OVERRIDE",
                               "CAP_MAC_ADMIN",
                               "CAP_SYSLOG",
                               "CAP_WAKE_ALARM",
                               "CAP_BLOCK_SUSPEND",
                               "CAP_AUDIT_READ",
                               "CAP_PERFMON",
                               "CAP_BPF",
                               "CAP_CHECKPOINT_RESTORE"};

json seccomp() {
  // seccomp.cpp: every action but SCMP_ACT_NOTIFY (no seccomp agents).
  Strings actions = {"SCMP_ACT_ALLOW",        "SCMP_ACT_ERRNO",       "SCMP_ACT_KILL",
                     "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                     "SCMP_ACT_TRACE",        "SCMP_ACT_TRAP"};
  Strings operators = {"SCMP_CMP_EQ", "SCMP_CMP_GE",        "SCMP_CMP_GT", "SCMP_CMP_LE",
                       "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"};
  // The architectures the guest's libseccomp (Debian 12, 2.5.4) resolves.
  Strings archs = {
      "SCMP_ARCH_AARCH64",   "SCMP_ARCH_ARM",      "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",
      "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",   "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
      "SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64", "SCMP_ARCH_PPC",      "SCMP_ARCH_PPC64",
      "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_RISCV64",  "SCMP_ARCH_S390",     "SCMP_ARCH_S390X",
      "SCMP_ARCH_X32",       "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64"};
  // The flags seccomp.cpp maps; the guest kernel supports all three.
  Strings flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                   "SECCOMP_FILTER_FLAG_TSYNC"};
  return {{"enabled", true}, {"actions", actions},  {"operators", operators},
          {"archs", archs},  {"knownFlags", flags}, {"supportedFlags", flags}};
}

json linux_section() {
  return {
      {"namespaces", kNamespaces},
      {"capabilities", kCapabilities},
      // The guest kernel owns a cgroup2 hierarchy and nothing else; the
      // agent writes its files directly (no systemd in the guest).
      {"cgroup",
       {{"v1", false}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}}},
      {"seccomp", seccomp()},
      // The guest kernel has no LSM: profiles and labels are ignored.
      {"apparmor", {{"enabled", false}}},
      {"selinux", {{"enabled", false}}},
      {"intelRdt", {{"enabled", false}}},
      // mounts.cpp refuses uidMappings/gidMappings on mounts.
      {"mountExtensions", {{"idmap", {{"enabled", false}}}}},
  };
}

// The configuration in use, one annotation a key, every value a string as
// annotations are.
json annotations(const sandbox::RuntimeConfig& config) {
  json out = json::object();
  const json values = sandbox::to_json(config);  // items() does not keep a temporary alive
  for (const auto& [key, value] : values.items())
    out[sandbox::kAnnotationPrefix + key] =
        value.is_string() ? value.get<std::string>() : value.dump();
  out["io.vmrt.version"] = VMRT_VERSION;
  // What a RuntimeClass's overhead.podFixed should say for this
  // configuration, in Kubernetes' quantities.
  sandbox::PodOverhead overhead = sandbox::pod_overhead(config);
  out["io.vmrt.pod-overhead.memory"] = std::to_string(overhead.memory_mib) + "Mi";
  out["io.vmrt.pod-overhead.cpu"] = std::to_string(overhead.millicpus) + "m";
  return out;
}

}  // namespace

json features(const sandbox::RuntimeConfig& config) {
  return {
      {"ociVersionMin", kOciVersionMin},
      {"ociVersionMax", kOciVersionMax},
      // Run on the host by the CLI (hooks.h); createContainer and
      // startContainer belong inside the guest and are not run.
      {"hooks", {"prestart", "createRuntime", "poststart", "poststop"}},
      {"mountOptions", kMountOptions},
      {"linux", linux_section()},
      {"annotations", annotations(config)},
  };
}

}  // namespace vmrt::cli
