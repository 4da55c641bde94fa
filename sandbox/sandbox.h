#pragma once
// One sandbox: a vmrt-vmm micro-VM whose PID 1 is the agent, the directory
// it shares with the guest over virtio-fs, and the containers created in it.
// The vmrt CLI runs one container per sandbox; the shim runs a pod's
// containers in one. Everything a Sandbox starts (the VMM, rootfs mounts,
// the sandbox directory's sockets) is stopped or removed when it goes away,
// after a failure as much as after success.
//
// Rootfs bind mounts are made in the caller's mount namespace, which must be
// a private one (enter_private_mount_namespace): the mounts then exist only
// for the owner and its VMM and vanish with them, even if both are killed.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/oci/spec.h"
#include "common/process.h"
#include "sandbox/agent_client.h"
#include "sandbox/config.h"
#include "sandbox/container_calls.h"
#include "sandbox/network/pod_attachment.h"
#include "sandbox/network/port_relay.h"
#include "sandbox/process_watch.h"
#include "sandbox/share_mount.h"
#include "sandbox/vm_resize.h"
#include "sandbox/vm_size.h"
#include "sandbox/vmm_cgroup.h"
#include "sandbox/vmm_command.h"

namespace vmrt::sandbox {

// Moves the calling process into a new mount namespace that receives the
// host's mounts (slave propagation) but shows its own to nobody. Must run
// while the process has one thread (unshare refuses CLONE_NEWNS otherwise).
void enter_private_mount_namespace();

struct SandboxOptions {
  std::string id;
  RuntimeConfig config;  // annotations already applied, validated
  // An existing, empty directory the sandbox may fill (sockets, logs, the
  // shared directory); the caller removes it.
  std::filesystem::path dir;
  std::string hostname;  // the guest's
  // Set up by the agent before the sandbox is ready; the containers whose
  // spec joins a network namespace by path share it.
  PodNetwork network;
  // A host network namespace (CNI's for a pod) whose interface the VM takes
  // over (network::PodAttachment); `network` is then read from it. Empty:
  // the VM gets no NIC.
  std::filesystem::path network_namespace;
  // The spec's linux.cgroupsPath, as given (cgroupfs or systemd form; a
  // pod's sandbox gets one from CRI). With config.pod_cgroup the VMM goes in
  // <it>/vmm and join_shim_cgroup's caller in <it>/shim; empty: the VMM goes
  // in <config.cgroup_parent>/vmm-<id>.
  std::string pod_cgroup;
  // What the pod will ask for beyond the base size (pod_demand of the CRI
  // sandbox annotations): the VM has it from the start, and grows further
  // only when its containers' limits add up to more.
  Demand demand;
};

// The limits of a container's spec (its linux.resources), as demand_of
// reads them.
Demand demand_of(const oci::Spec& spec);

// The host network namespace a spec joins by path (what
// SandboxOptions::network_namespace takes), or empty.
std::filesystem::path network_namespace_of(const oci::Spec& spec);

// What a spec asks of the network: a namespace of its own (which a client
// such as Docker configures through the pid in the state, in a prestart
// hook), one it joins by path (CNI's, podman's), or none: the host's, which
// a VM cannot share.
enum class NetworkRequest { Own, Join, Host };
NetworkRequest network_request_of(const oci::Spec& spec);

// Where the time of a sandbox start went, measured from the VMM's spawn: for
// logs and the start-up benchmark.
struct StartTimes {
  std::chrono::milliseconds vmm_ready{0};      // the VM socket exists: devices set up
  std::chrono::milliseconds agent_ready{0};    // the guest booted and the agent answered
  std::chrono::milliseconds sandbox_ready{0};  // CreateSandbox done (share mounted)
  bool from_template = false;                  // restored from a VM template, not booted
};

// What Sandbox::stop throws, and Sandbox::start when the stop after its
// failure does: mounts are left in the sandbox directory, which must be kept.
class MountsLeft : public Error {
 public:
  using Error::Error;
};

class Sandbox {
 public:
  // Starts the VMM and waits until the agent answers and has set up the
  // sandbox, at most config.boot_timeout. Throws vmrt::Error saying what went
  // wrong, with the VMM's log and the guest console's last lines; nothing is
  // left running then, and a mount left behind makes it a MountsLeft.
  static std::unique_ptr<Sandbox> start(SandboxOptions options);
  ~Sandbox();  // stop() unless done; its error is logged
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  const std::string& id() const noexcept { return options_.id; }
  const SandboxPaths& paths() const noexcept { return paths_; }
  pid_t vmm_pid() const noexcept { return vmm_->pid(); }
  AgentClient& agent() { return *agent_; }

  // Shows `rootfs` to the guest (bind mount at shared/<id>/rootfs) and
  // creates container `id` in the guest. Returns the guest pid of its init
  // process. The mount is read-only for root.readonly (the agent then puts
  // the mount points on an overlay in the guest). The spec's bind mounts of
  // host paths (a volume, containerd's /etc/hosts and /dev/shm of a pod) are
  // shared too, read-only when "ro", recursive only for "rbind", and their
  // sources rewritten to the guest's view of the share. Every share mount is
  // nosuid,nodev.
  uint32_t create_container(const std::string& id, const oci::Spec& spec,
                            const std::filesystem::path& rootfs, ContainerStdio stdio);
  // Changes container `id`'s resources (OCI LinuxResources JSON) in the
  // guest, and the VM's size with them: grown before the container may use
  // more, shrunk after it was held to less.
  void update_container(const std::string& id, const std::string& resources_json);
  // What the VM has now: online vCPUs and memory, plugged included.
  VmSize vm_size();
  // Removes the container from the guest (killing it when `force`) and its
  // rootfs and bind mounts. A mount that cannot be removed is an error, and
  // stop() reports it again.
  void remove_container(const std::string& id, bool force);

  // The VMM's exit status once it has ended; never blocks.
  std::optional<ExitStatus> vmm_exited();
  const StartTimes& start_times() const noexcept { return times_; }

  // What the VMM and the guest said last: for messages about a dead VM.
  std::string last_words() const;
  // Once the VMM has ended: how, and its last words (a ProcessWatch's
  // VmGone). Never blocks.
  std::optional<std::string> vm_gone();

  // Moves the calling process into the VMM's cgroup until stop() (no cgroup:
  // nothing to do; refused: a warning): a client reading the cgroup of the
  // pid it was given (Docker's and podman's stats, the runc shim's OOM
  // watch) then sees what the VM costs the host, within the VM's limits.
  void join_cgroup();
  // Moves the calling process (a shim) into the pod cgroup's shim leaf
  // until stop(), so that the pod's cgroup accounts for it too (no pod
  // cgroup: nothing to do; refused: a warning).
  void join_shim_cgroup();
  // The VM grew or shrank: the VMM's cgroup limits follow (limits_for the
  // new size). No cgroup: nothing to do. Throws vmrt::Error naming the file.
  void set_cgroup_limits(const VmmLimits& limits);

  // Asks the agent to end every container, stops the VMM (SIGTERM, then
  // SIGKILL after a grace period) and removes the share mounts. Idempotent.
  // Throws MountsLeft, after doing all the rest, naming every mount it (or
  // remove_container) could not remove: the sandbox directory must then be
  // kept, not deleted through the mount into the host's files.
  void stop();

 private:
  explicit Sandbox(SandboxOptions options);
  // Restores the VM from its configuration's template when it may (making
  // the template first if needed), else boots it; waits for the agent.
  void boot_or_restore();
  void launch(const std::filesystem::path& restore);
  // Where the VMM's cgroups go (none: nullopt); throws vmrt::Error for a
  // cgroupsPath that is refused.
  std::optional<CgroupPlacement> cgroup_placement() const;
  // Undoes a launch whose VM never answered, so that another can follow.
  void end_launch() noexcept;
  void wait_for_agent();
  // Brings the VM to the size its demand asks for (sandbox_size.cpp).
  void fit();
  // The container is gone: the VM shrinks to what the others ask for. A
  // failure to shrink is logged, never thrown (the container is gone).
  void forget_demand(const std::string& id) noexcept;
  VmLevers levers();
  void stop_all() noexcept;  // stop() but for its error
  std::chrono::milliseconds since_spawn() const;

  SandboxOptions options_;
  SandboxPaths paths_;
  // Before vmm_: stop() ends the VMM first, then removes the wiring.
  std::unique_ptr<network::PodAttachment> attachment_;
  // CRI port forwarding into the VM (network/port_relay.h): with a pod
  // network namespace, once the sandbox is up.
  std::unique_ptr<network::PortRelay> port_relay_;
  void start_port_relay();
  // The shared directory as a (nosuid,nodev) shared mount of its own, so
  // that the rootfs mounts made in it after the VMM started reach the jailed
  // VMM's copy.
  std::optional<ShareMount> share_root_;
  // Before vmm_: removed once the VMM has been reaped.
  std::optional<VmmCgroup> cgroup_;
  std::optional<JoinedCgroup> joined_;  // leaves before cgroup_ goes
  std::optional<Subprocess> vmm_;
  std::mutex vmm_mu_;  // vmm_status_, and reaping the VMM
  std::optional<ExitStatus> vmm_status_;
  std::optional<AgentClient> agent_;
  uint32_t agent_api_version_ = 0;  // from Health
  struct ContainerMounts {
    std::optional<ShareMount> rootfs;
    std::vector<ShareMount> binds;
  };
  std::map<std::string, ContainerMounts> mounts_;
  // Unmount what `m` holds; a failure is noted in mounts_left_.
  void unmount(ContainerMounts& m);
  void unmount_noting(ShareMount& m);
  // The unmounts that failed: mounts still in the sandbox directory.
  std::vector<std::string> mounts_left_;
  bool stopped_ = false;
  std::filesystem::path guest_share_;  // the shared directory, as the guest sees it
  std::chrono::steady_clock::time_point spawned_;
  std::mutex size_mu_;                     // demands_, size_, and one resize at a time
  std::map<std::string, Demand> demands_;  // each container's limits
  VmSize size_;                            // what the VM has

  StartTimes times_;
};

}  // namespace vmrt::sandbox
