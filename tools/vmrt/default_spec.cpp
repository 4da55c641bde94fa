// The same config.json `runc spec` writes (runc 1.1, the one Debian ships),
// except for the hostname, so a bundle made for one runtime runs on the other.
#include "tools/vmrt/default_spec.h"

#include <string>
#include <vector>

namespace vmrt::cli {

namespace {

using nlohmann::json;
using Strings = std::vector<std::string>;

// runc 1.1 writes this version; the spec model reads 1.0 and 1.1 alike.
constexpr const char* kOciVersion = "1.0.2-dev";

json process() {
  // The few capabilities a shell needs; ambient as runc lists them (the
  // agent drops the ones that are not inheritable, as runc does).
  const Strings caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  return {
      {"terminal", true},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", Strings{"sh"}},
      {"env",
       Strings{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
      {"cwd", "/"},
      {"capabilities",
       {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
      {"rlimits", json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
      {"noNewPrivileges", true},
  };
}

json mount(const char* destination, const char* type, const char* source,
           const Strings& options = {}) {
  json m = {{"destination", destination}, {"type", type}, {"source", source}};
  if (!options.empty()) m["options"] = options;
  return m;
}

json mounts() {
  return json::array({
      mount("/proc", "proc", "proc"),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  });
}

json linux_section() {
  json namespaces = json::array();
  for (const char* type : {"pid", "network", "ipc", "uts", "mount"})
    namespaces.push_back({{"type", type}});
  return {
      // Deny every device; the default /dev nodes are created, not allowed.
      {"resources", {{"devices", json::array({{{"allow", false}, {"access", "rwm"}}})}}},
      {"namespaces", namespaces},
      // Kernel interfaces that leak host (here: guest kernel) details or
      // change kernel state: hidden, or read-only.
      {"maskedPaths", Strings{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                              "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                              "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
      {"readonlyPaths",
       Strings{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };
}

}  // namespace

json default_spec() {
  return {
      {"ociVersion", kOciVersion},
      {"process", process()},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "vmrt"},
      {"mounts", mounts()},
      {"linux", linux_section()},
  };
}

}  // namespace vmrt::cli
