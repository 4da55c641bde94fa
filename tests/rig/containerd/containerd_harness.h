#pragma once
// A private containerd for end-to-end tests of the vmrt shim, through ctr or
// CRI: its own root, state and sockets in a temporary directory, the build
// tree's containerd-shim-vmrt-v1 first in its PATH, the CRI plugin with a
// `vmrt` and a `runc` runtime (and the vmrt variants asked for), and test
// images built on the spot (no registry is reachable where the tests run).
// Runs inside tools/testvm and, as root, on a plain host. Failures to set up throw vmrt::Error with
// the end of containerd's log.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/process.h"
#include "common/tempdir.h"
#include "tests/support/watchdog_report.h"

namespace vmrt::containerd_test {

// Runtime types, as `ctr run --runtime` takes them.
inline constexpr const char* kRuncRuntime = "io.containerd.runc.v2";
inline constexpr const char* kVmrtRuntime = "io.containerd.vmrt.v1";
// Images every Containerd imports: busybox with its applets in /bin
// (command `sh`), and a pause image whose /pause waits until SIGTERM or
// SIGINT, the CRI plugin's sandbox_image.
inline constexpr const char* kBusyboxImage = "docker.io/library/busybox:vmrt-test";
inline constexpr const char* kPauseImage = "registry.k8s.io/pause:vmrt-test";
// The namespace the CRI plugin keeps its pods, containers and images in.
inline constexpr const char* kCriNamespace = "k8s.io";

struct TaskInfo {
  int pid = 0;
  std::string status;  // as `ctr task ls` prints it: RUNNING, STOPPED, PAUSED ...
};

class Containerd {
 public:
  struct Options {
    // The namespace ctr() works in and the test images are imported into.
    std::string ns = "vmrt-test";
    // How long containerd may take to answer `ctr version`.
    std::chrono::seconds start_timeout{120};
    // Pod networks from CNI's bridge plugin (Debian's containernetworking-
    // plugins) on bridge kPodBridge with host-local addresses from this /24,
    // e.g. "10.89.0", the bridge being .1. Empty: no CNI configuration, so
    // only host-network pods run.
    std::string pod_subnet;
    // An IPv6 range beside it (dual stack) or alone (IPv6-only pods): the
    // /64 of this prefix, e.g. "fd00:89::" for fd00:89::/64, the bridge
    // being "fd00:89::1".
    std::string pod_subnet6;
    // More CRI runtime handlers of vmrt's shim beside `vmrt`, each with its
    // own runtime configuration: handler name -> TOML lines appended to the
    // build tree's configuration, which ends in its [hypervisor] table
    // (e.g. {"vmrt-cold", "template = false"}); a key of that table given
    // again replaces the build's. containerd hands the shim
    // the file as the handler's ConfigPath option.
    std::map<std::string, std::string> vmrt_variants;
  };
  // The bridge of the pod network; removed by the destructor.
  static constexpr const char* kPodBridge = "vmrt-cni0";

  Containerd() : Containerd(Options{}) {}
  explicit Containerd(Options options);
  // Deletes remaining tasks, stops containerd (SIGTERM, then SIGKILL), kills
  // the shims it started and their processes, unmounts what is left under
  // dir() and removes it.
  ~Containerd();
  Containerd(const Containerd&) = delete;
  Containerd& operator=(const Containerd&) = delete;

  const std::filesystem::path& dir() const { return dir_.path(); }
  const std::string& ns() const { return options_.ns; }
  // overlayfs where the temporary directory's filesystem supports it, else native.
  const std::string& snapshotter() const { return snapshotter_; }
  // containerd's gRPC socket, which also serves CRI: a path, and the
  // endpoint URL CRI clients take.
  std::filesystem::path address() const { return dir() / "containerd.sock"; }
  std::string cri_socket() const { return address().string(); }
  std::string cri_endpoint() const { return "unix://" + cri_socket(); }
  // The runtime configuration file vmrt's shim runs runtime handler
  // `handler` with: the build tree's for `vmrt`, a variant's own else.
  std::filesystem::path vmrt_config(const std::string& handler = "vmrt") const;

  // ctr --address ADDRESS --namespace NS ARGS... with `input` on stdin (else
  // /dev/null: `ctr run` and `ctr task exec` always forward their stdin).
  RunResult ctr(const std::vector<std::string>& args, const std::string& input = "",
                std::chrono::seconds timeout = std::chrono::seconds(120)) const;
  // The same command started in the background with `options` (stdio
  // choices such as a terminal); its environment carries the snapshotter.
  Subprocess spawn_ctr(const std::vector<std::string>& args, SpawnOptions options = {}) const;
  std::vector<std::string> ctr_argv(const std::vector<std::string>& args) const;

  // The task of container `id` as `ctr task ls` shows it; nullopt when it
  // has none (or ctr failed).
  std::optional<TaskInfo> task(const std::string& id) const;
  // Polls task() until its status is `status`; the last status seen
  // ("(no task)" when there was none).
  std::string wait_task_status(const std::string& id, const std::string& status,
                               std::chrono::seconds timeout = std::chrono::seconds(120)) const;

  // Imports the test images into namespace `ns` (the constructor does so
  // for options.ns; CRI tests that work elsewhere add kCriNamespace).
  void import_images(const std::string& ns) const;
  // Builds an image named `reference` (e.g. "docker.io/library/x:vmrt-test")
  // from the tree `rootfs` with `umoci config` flags (e.g. "--config.cmd",
  // "sh") and imports it into namespace `ns`: a test's own image.
  void import_image(const std::string& ns, const std::string& reference,
                    const std::filesystem::path& rootfs,
                    const std::vector<std::string>& config_flags) const;

  // containerd's log (stdout and stderr, shim output included), all of it or
  // its last `lines` lines, for failure messages.
  std::string log() const;
  std::string log_tail(size_t lines = 60) const;
  // log_tail() and the end of every pod VM's console and VMM log: what the test
  // watchdog prints when a test hangs.
  std::string hang_report() const;

  // What tests must not leave behind, one line each: shims started by this
  // containerd, vmrt-vmm processes that were not running before it started,
  // mounts under dir(), shim sockets that appeared since, task bundles in
  // containerd's state and vmrt shims' pod directories (their root,
  // VMRT_SHIM_ROOT, is under dir()). Waits a little for things that go by
  // themselves.
  std::vector<std::string> leftovers() const;
  // Stops containerd (SIGTERM, as an upgrade does) and starts it again on the
  // same configuration, root, state and sockets. Shims and their tasks live
  // on; containerd finds them again through their bundles.
  void restart();
  // Process ids of the shims this containerd started, and of the vmrt-vmm
  // processes (VMMs proper, not their file servers) started since it.
  std::vector<int> shim_pids() const;
  std::vector<int> vmm_pids() const;
  // Removes the sockets in containerd's shim socket directory that appeared
  // since it started and that nobody serves any more; returns them.
  std::vector<std::filesystem::path> remove_stale_shim_sockets() const;

  // The vmrt shims' root (VMRT_SHIM_ROOT), where their pod directories are.
  std::filesystem::path shim_root() const { return dir() / "shim"; }

  // The pod network's gateway (the bridge's address), "" without one.
  std::string pod_gateway() const {
    return options_.pod_subnet.empty() ? "" : options_.pod_subnet + ".1";
  }
  std::string pod_gateway6() const {
    return options_.pod_subnet6.empty() ? "" : options_.pod_subnet6 + "1";
  }
  bool has_pod_network() const {
    return !options_.pod_subnet.empty() || !options_.pod_subnet6.empty();
  }

 private:
  std::filesystem::path state_dir() const { return dir() / "state"; }
  std::filesystem::path log_path() const { return dir() / "containerd.log"; }
  std::vector<std::string> shims() const;
  std::vector<std::string> new_vmms() const;
  std::vector<std::filesystem::path> new_shim_sockets() const;
  std::vector<std::string> extra_env() const;
  std::vector<std::string> ctr_argv_in(const std::string& ns,
                                       const std::vector<std::string>& args) const;
  void import_archive(const std::string& ns, const std::string& reference,
                      const std::filesystem::path& archive) const;
  void write_config() const;
  std::string write_vmrt_variants() const;
  void start_daemon();
  void wait_until_ready();
  void delete_remaining_tasks() const;
  void kill_shims() const;

  Options options_;
  TempDir dir_;
  std::string snapshotter_;
  // Present before containerd started, so not counted as leftovers (on a
  // plain host other software may run VMMs and shims).
  std::set<std::string> vmms_before_;
  std::set<std::filesystem::path> sockets_before_;
  std::set<std::filesystem::path> netns_before_;  // named network namespaces
  std::optional<Subprocess> containerd_;
  std::optional<test::WatchdogReport> watchdog_report_;
};

}  // namespace vmrt::containerd_test
