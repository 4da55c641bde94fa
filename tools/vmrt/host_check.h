#pragma once
// `vmrt check`: whether this host can run vmrt, one finding per check. Each
// check looks only at what it is given (paths, file contents, the runtime
// configuration), so tests run it against a made-up host; run_host_checks()
// points them at the real one.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/config.h"
#include "sandbox/host_kvm.h"

namespace vmrt::cli {

// fail: vmrt cannot run a sandbox here; warn: an optional part (containerd,
// pod networking, VM templates) will not work, sandboxes still do.
enum class CheckLevel { kOk, kWarn, kFail };

struct CheckResult {
  std::string name;  // "kvm", "cgroups", "kernel" ...
  CheckLevel level;
  std::string message;

  bool operator==(const CheckResult&) const = default;
};

// KVM_GET_API_VERSION on an open /dev/kvm, or -1 with errno set; tests give
// a stand-in, since their /dev/kvm is a plain file.
using KvmApiVersion = std::function<int(int fd)>;
int kvm_api_version(int fd);

// /dev/kvm exists, opens, speaks API version 12 and is a KVM that boots a
// guest kernel: hardware KVM, not PVM (the paravirtual kvm_pvm).
CheckResult check_kvm(const sandbox::HostKvmView& view,
                      const KvmApiVersion& api_version = kvm_api_version);

// /dev/net/tun, for the tap of a sandbox with a network namespace (every
// Kubernetes pod); without it only containers without a network start.
CheckResult check_tun(const std::filesystem::path& dev_tun);

// The cgroup hierarchies the VMMs' cgroups go in, from /proc/self/mountinfo's
// `mountinfo` (a cgroup2 mount's controllers are read from its
// cgroup.controllers): cgroup v2 with memory, cpu and pids, or v1
// hierarchies with them. Without them a failure only when `config` puts
// VMMs in cgroups.
CheckResult check_cgroups(const std::string& mountinfo, const sandbox::RuntimeConfig& config);

// Who reads the kernel and image: a jailed VMM loads them after dropping to
// the jail's uid and gid, with no capability left to override a file's mode.
struct JailIds {
  uint32_t uid, gid;
};
// The jail's ids when the jail is on (else the VMM reads as root).
std::optional<JailIds> jail_reader(const sandbox::RuntimeConfig& config);

// The guest kernel is an x86-64 ELF vmlinux or a bzImage with the 64-bit
// entry (boot protocol 2.12 or later), as the VMM loads them, readable by
// `reader` (by its mode bits).
CheckResult check_kernel(const std::filesystem::path& kernel,
                         std::optional<JailIds> reader = std::nullopt);
// The guest image is a newc cpio archive, plain or gzip-compressed (the
// guest kernel decompresses nothing else), readable by `reader`.
CheckResult check_image(const std::filesystem::path& image,
                        std::optional<JailIds> reader = std::nullopt);
// The VMM binary is a regular file this process may execute.
CheckResult check_vmm(const std::filesystem::path& vmm);

// The jail is on and drops to a uid and gid other than 0.
CheckResult check_jail(const sandbox::RuntimeConfig& config);

// `dir` (made when missing) can be written: the directory itself or, when
// it does not exist yet, the nearest existing parent. `name` labels the
// line ("state", "templates").
CheckResult check_writable_dir(const std::string& name, const std::filesystem::path& dir);

// containerd's configuration registers a runtime handler of type
// io.containerd.vmrt.v1 (a missing file or entry is a warning: vmrt runs
// without containerd).
CheckResult check_containerd(const std::filesystem::path& config_file);

// Where run_host_checks() looks.
struct HostCheckInputs {
  std::filesystem::path vmrt_config;  // --config; empty: the default file
  std::filesystem::path state_root = "/run/vmrt";
  std::filesystem::path containerd_config = "/etc/containerd/config.toml";
};

// Every check, against this host, in the order they are printed.
std::vector<CheckResult> run_host_checks(const HostCheckInputs& in);

// "ok   kvm: ..." / "warn ..." / "FAIL ...".
std::string format_line(const CheckResult& r);
nlohmann::json to_json(const std::vector<CheckResult>& results);
// Whether no check failed.
bool all_passed(const std::vector<CheckResult>& results);

}  // namespace vmrt::cli
