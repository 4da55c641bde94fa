#pragma once
// What the shim's task table needs of the pod's VM: the containers in it,
// their processes and the VM's own end. SandboxPodVm is the real one over
// sandbox::Sandbox; the table's unit tests run it against a fake, without a
// VM.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/oci/spec.h"
#include "proto/agent.pb.h"
#include "sandbox/config.h"
#include "sandbox/container_calls.h"
#include "sandbox/io_relay.h"
#include "sandbox/process_watch.h"

namespace vmrt::shim {

// A process being followed to its end; dropping it stops following (the
// end callback then does not run).
class ProcessFollower {
 public:
  virtual ~ProcessFollower() = default;
};

class PodVm {
 public:
  virtual ~PodVm() = default;

  // The VMM: what containerd is given as every task's pid.
  virtual pid_t vmm_pid() const = 0;
  // How the VM ended, once it has (never blocks).
  virtual std::optional<std::string> vm_gone() = 0;

  // Creates container `id` from `spec` with its root at `rootfs`; returns
  // the guest pid of its init.
  virtual uint32_t create_container(const std::string& id, const oci::Spec& spec,
                                    const std::filesystem::path& rootfs,
                                    sandbox::ContainerStdio stdio) = 0;
  // Removes it from the guest, killing what still runs.
  virtual void remove_container(const std::string& id) = 0;

  virtual void start(const std::string& id) = 0;
  virtual void exec(const sandbox::ProcessRef& p, const std::string& process_json,
                    sandbox::ContainerStdio stdio) = 0;
  virtual void signal(const sandbox::ProcessRef& p, int sig, bool all) = 0;
  virtual void pause(const std::string& id) = 0;
  virtual void resume(const std::string& id) = 0;
  virtual void update(const std::string& id, const std::string& resources_json) = 0;
  virtual agent::v1::StatsContainerResponse stats(const std::string& id) = 0;
  virtual std::vector<uint32_t> pids(const std::string& id) = 0;
  virtual void resize(const sandbox::ProcessRef& p, uint32_t rows, uint32_t cols) = 0;

  // Relays `fds` and follows the started process `p`; `on_end` runs once,
  // on another thread, when it ends.
  virtual std::unique_ptr<ProcessFollower> follow(const sandbox::ProcessRef& p,
                                                  sandbox::RelayFds fds,
                                                  sandbox::ProcessWatch::OnEnd on_end) = 0;
  // `on_oom` hears the id of each container whose process the OOM killer
  // took, until stop().
  virtual void watch_oom(std::function<void(const std::string&)> on_oom) = 0;
  // Hands watch_oom's callback, before it returns, the OOM kills the agent
  // has recorded that it has not heard yet. Called before a killed
  // process's exit goes out: containerd must hear of the OOM kill first, as
  // from runc's shim, or CRI reports the container's reason as Error.
  virtual void sync_oom() {}

  // Ends every container and the VM. Throws sandbox::MountsLeft when a mount
  // stayed in the pod's directory (which must then be kept).
  virtual void stop() = 0;
};

struct PodVmOptions {
  std::string pod;
  const oci::Spec* spec = nullptr;  // the pod's first task's
  sandbox::RuntimeConfig config;
};

// Boots the pod's VM; throws what sandbox::Sandbox::start does.
using PodVmFactory = std::function<std::unique_ptr<PodVm>(PodVmOptions)>;

}  // namespace vmrt::shim
