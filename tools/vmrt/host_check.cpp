// The host's side of `vmrt check`: KVM, /dev/net/tun, cgroups, the jail and
// the directories vmrt writes. The files the configuration names are looked
// at in host_check_files.cpp.

#include "tools/vmrt/host_check.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/cgroup_files.h"
#include "common/error.h"
#include "common/fd.h"
#include "sandbox/cgroup_hierarchy.h"

namespace vmrt::cli {
namespace {

namespace fs = std::filesystem;

CheckResult ok(std::string name, std::string message) {
  return {std::move(name), CheckLevel::kOk, std::move(message)};
}
CheckResult warn(std::string name, std::string message) {
  return {std::move(name), CheckLevel::kWarn, std::move(message)};
}
CheckResult failed(std::string name, std::string message) {
  return {std::move(name), CheckLevel::kFail, std::move(message)};
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The hardware's name for what kvm_intel or kvm_amd drives.
std::string hardware_name(const sandbox::HostKvmView& view) {
  std::error_code ec;
  if (fs::exists(view.sys_module / "kvm_intel", ec)) return "VT-x";
  if (fs::exists(view.sys_module / "kvm_amd", ec)) return "AMD-V";
  return "hardware";
}

std::string join(const std::vector<std::string>& words, const char* sep) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : sep) + w;
  return out;
}

}  // namespace

int kvm_api_version(int fd) { return ::ioctl(fd, KVM_GET_API_VERSION, 0); }

CheckResult check_kvm(const sandbox::HostKvmView& view, const KvmApiVersion& api_version) {
  const std::string dev = view.dev_kvm.string();
  sandbox::HostKvmKind kind = sandbox::host_kvm_kind(view);
  if (kind == sandbox::HostKvmKind::kNone)
    return failed("kvm", fmt::format("no {}: load kvm_intel or kvm_amd, or enable nested "
                                     "virtualization for this machine",
                                     dev));
  UniqueFd fd(::open(view.dev_kvm.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) return failed("kvm", fmt::format("cannot open {}: {}", dev, std::strerror(errno)));
  int version = api_version(fd.get());
  if (version < 0)
    return failed("kvm", fmt::format("{}: KVM_GET_API_VERSION failed ({}): not a KVM device", dev,
                                     std::strerror(errno)));
  if (version != KVM_API_VERSION)
    return failed(
        "kvm", fmt::format("{}: KVM API version {}, vmrt needs {}", dev, version, KVM_API_VERSION));
  switch (kind) {
    case sandbox::HostKvmKind::kPvm:
      return failed("kvm", fmt::format("{} is PVM, the paravirtual kvm_pvm module, which cannot "
                                       "boot a guest kernel",
                                       dev));
    case sandbox::HostKvmKind::kHardware:
      return ok("kvm",
                fmt::format("{} usable ({}, API version {})", dev, hardware_name(view), version));
    default:
      return failed("kvm", fmt::format("{} is no hardware KVM (no kvm_intel or kvm_amd module on "
                                       "a CPU showing VMX or SVM): it cannot boot a guest kernel",
                                       dev));
  }
}

CheckResult check_tun(const fs::path& dev_tun) {
  UniqueFd fd(::open(dev_tun.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd)
    return warn("tun", fmt::format("cannot open {} ({}): containers with a network namespace "
                                   "(every Kubernetes pod) cannot start; load the tun module",
                                   dev_tun.string(), std::strerror(errno)));
  return ok("tun", fmt::format("{} usable (pod networking)", dev_tun.string()));
}

CheckResult check_cgroups(const std::string& mountinfo, const sandbox::RuntimeConfig& config) {
  // As sandbox.cpp decides: jailed VMMs go in cgroups unless both settings
  // leave them out.
  const bool needed = config.jail && (config.pod_cgroup || !config.cgroup_parent.empty());
  auto missing = [&](const std::string& why) {
    if (needed) return failed("cgroups", why);
    return warn("cgroups", why + " (not needed: the configuration puts VMMs in no cgroup)");
  };
  auto mounts = sandbox::parse_cgroup_mounts(mountinfo);
  for (const auto& h : mounts) {
    if (!h.v2) continue;
    auto have = cgroup_words(read_text(h.mount / "cgroup.controllers"));
    if (!have.count("memory")) break;  // a hybrid host: the v1 hierarchies hold the controllers
    std::vector<std::string> lacking;
    for (const char* c : {"memory", "cpu", "pids"})
      if (!have.count(c)) lacking.push_back(c);
    if (!lacking.empty())
      return missing(fmt::format("cgroup v2 at {} lacks the {} controller", h.mount.string(),
                                 join(lacking, ", ")));
    return ok("cgroups", fmt::format("cgroup v2 at {} (memory, cpu, pids)", h.mount.string()));
  }
  std::vector<std::string> found, lacking;
  for (const char* c : {"memory", "cpu", "pids"}) {
    auto h = std::find_if(mounts.begin(), mounts.end(),
                          [&](const sandbox::CgroupHierarchy& m) { return !m.v2 && m.has(c); });
    if (h == mounts.end()) {
      lacking.push_back(c);
    } else {
      found.push_back(fmt::format("{} at {}", c, h->mount.string()));
    }
  }
  if (!lacking.empty())
    return missing(fmt::format("no cgroup hierarchy has the {} controller{}", join(lacking, ", "),
                               needed ? "; set jail.cgroup_parent = \"\" and jail.pod_cgroup = "
                                        "false to run VMMs without cgroups"
                                      : ""));
  return ok("cgroups", "cgroup v1: " + join(found, ", "));
}

CheckResult check_jail(const sandbox::RuntimeConfig& config) {
  if (!config.jail)
    return warn("jail",
                "off (jail.enabled = false): VMMs run as root, unconfined; for "
                "debugging only");
  if (config.jail_uid == 0 || config.jail_gid == 0)
    return failed("jail", fmt::format("jail.uid {} / jail.gid {}: a VMM must not keep uid or gid 0",
                                      config.jail_uid, config.jail_gid));
  return ok("jail", fmt::format("VMMs drop to uid {}, gid {}", config.jail_uid, config.jail_gid));
}

CheckResult check_writable_dir(const std::string& name, const fs::path& dir) {
  std::error_code ec;
  fs::path at = dir;
  // What does not exist yet is made in the nearest parent that does.
  while (!fs::exists(at, ec) && at.has_relative_path()) at = at.parent_path();
  if (!fs::is_directory(at, ec))
    return failed(name, fmt::format("{}: {} is not a directory", dir.string(), at.string()));
  if (::access(at.c_str(), W_OK | X_OK) != 0)
    return failed(name, fmt::format("{}: cannot write {} ({})", dir.string(), at.string(),
                                    std::strerror(errno)));
  if (at == dir) return ok(name, fmt::format("{} writable", dir.string()));
  return ok(name, fmt::format("{} can be made (in {})", dir.string(), at.string()));
}

std::vector<CheckResult> run_host_checks(const HostCheckInputs& in) {
  std::vector<CheckResult> out;
  out.push_back(check_kvm({}));
  sandbox::RuntimeConfig config;
  try {
    config = sandbox::load_runtime_config(in.vmrt_config);
    out.push_back(ok("config", config.source.empty() ? fmt::format("built-in defaults (no {})",
                                                                   sandbox::kDefaultConfigPath)
                                                     : config.source.string()));
  } catch (const Error& e) {
    out.push_back(failed("config", e.what()));
    config = sandbox::default_config();  // the host checks below still mean something
  }
  out.push_back(check_vmm(config.vmm));
  out.push_back(check_kernel(config.kernel, jail_reader(config)));
  out.push_back(check_image(config.image, jail_reader(config)));
  out.push_back(check_jail(config));
  out.push_back(check_cgroups(read_text("/proc/self/mountinfo"), config));
  out.push_back(check_tun("/dev/net/tun"));
  out.push_back(check_writable_dir("state", in.state_root));
  if (config.template_vm) {
    // Without templates every sandbox boots: slower, still working.
    CheckResult t = check_writable_dir("templates", config.template_dir);
    if (t.level == CheckLevel::kFail) {
      t.level = CheckLevel::kWarn;
      t.message += "; sandboxes boot without a VM template (hypervisor.template_dir)";
    }
    out.push_back(t);
  }
  out.push_back(check_containerd(in.containerd_config));
  return out;
}

std::string format_line(const CheckResult& r) {
  const char* level = r.level == CheckLevel::kOk     ? "ok  "
                      : r.level == CheckLevel::kWarn ? "warn"
                                                     : "FAIL";
  return fmt::format("{} {}: {}", level, r.name, r.message);
}

nlohmann::json to_json(const std::vector<CheckResult>& results) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& r : results) {
    const char* level = r.level == CheckLevel::kOk     ? "ok"
                        : r.level == CheckLevel::kWarn ? "warn"
                                                       : "fail";
    checks.push_back({{"name", r.name}, {"level", level}, {"message", r.message}});
  }
  return {{"ok", all_passed(results)}, {"checks", checks}};
}

bool all_passed(const std::vector<CheckResult>& results) {
  for (const auto& r : results)
    if (r.level == CheckLevel::kFail) return false;
  return true;
}

}  // namespace vmrt::cli
