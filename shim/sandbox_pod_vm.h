#pragma once
// The pod's VM as the shim runs it: a sandbox::Sandbox in the pod's
// directory, booted on the shim's long-lived thread, its VMM's pid recorded
// for the shim's delete command, and its OOM events followed on a thread.

#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "sandbox/sandbox.h"
#include "shim/pod_location.h"
#include "shim/pod_vm.h"
#include "shim/thread_runner.h"

namespace vmrt::shim {

class SandboxPodVm : public PodVm {
 public:
  // Boots the VM for `o.pod` in `where`'s sandbox directory.
  SandboxPodVm(const PodLocation& where, ThreadRunner& spawner, PodVmOptions o);
  ~SandboxPodVm() override;

  pid_t vmm_pid() const override { return sandbox_->vmm_pid(); }
  std::optional<std::string> vm_gone() override { return sandbox_->vm_gone(); }
  uint32_t create_container(const std::string& id, const oci::Spec& spec,
                            const std::filesystem::path& rootfs,
                            sandbox::ContainerStdio stdio) override;
  void remove_container(const std::string& id) override;
  void start(const std::string& id) override { calls().start(id); }
  void exec(const sandbox::ProcessRef& p, const std::string& process_json,
            sandbox::ContainerStdio stdio) override {
    calls().exec(p, process_json, stdio);
  }
  void signal(const sandbox::ProcessRef& p, int sig, bool all) override {
    calls().signal(p, sig, all);
  }
  void pause(const std::string& id) override { calls().pause(id); }
  void resume(const std::string& id) override { calls().resume(id); }
  void update(const std::string& id, const std::string& resources_json) override {
    sandbox_->update_container(id, resources_json);
  }
  agent::v1::StatsContainerResponse stats(const std::string& id) override {
    return calls().stats(id);
  }
  std::vector<uint32_t> pids(const std::string& id) override { return calls().pids(id); }
  void resize(const sandbox::ProcessRef& p, uint32_t rows, uint32_t cols) override {
    calls().resize(p, rows, cols);
  }
  std::unique_ptr<ProcessFollower> follow(const sandbox::ProcessRef& p, sandbox::RelayFds fds,
                                          sandbox::ProcessWatch::OnEnd on_end) override;
  void watch_oom(std::function<void(const std::string&)> on_oom) override;
  void sync_oom() override;
  void stop() override;

 private:
  sandbox::ContainerCalls calls() { return sandbox::ContainerCalls(sandbox_->agent()); }
  void follow_oom(std::stop_token stop);
  // Passes on the kills of `r` numbered after the last one passed on.
  void deliver_oom(const agent::v1::OomEventsResponse& r);

  std::string pod_;
  std::unique_ptr<sandbox::Sandbox> sandbox_;
  std::mutex stop_mu_;
  // The OOM kills passed on so far (the agent numbers them), by the watch
  // thread and by sync_oom, whichever hears of one first.
  std::mutex oom_mu_;
  uint64_t oom_last_ = 0;
  std::function<void(const std::string&)> on_oom_;
  std::jthread oom_thread_;  // its stop token ends the OomEvents calls
};

}  // namespace vmrt::shim
