#pragma once
// A PodVm without a VM, for unit tests of the shim's task table: it records
// the calls made of it, and the test decides when a followed process ends
// and when the VM dies.

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.h"
#include "shim/pod_vm.h"

namespace vmrt::shim::test {

class FakePodVm : public PodVm {
 public:
  struct Shared;  // what the test keeps once the table owns the VM

  explicit FakePodVm(std::shared_ptr<Shared> shared) : s_(std::move(shared)) {}
  ~FakePodVm() override;

  pid_t vmm_pid() const override { return 4242; }
  std::optional<std::string> vm_gone() override;
  uint32_t create_container(const std::string& id, const oci::Spec&, const std::filesystem::path&,
                            sandbox::ContainerStdio) override;
  void remove_container(const std::string& id) override { record("remove " + id); }
  void start(const std::string& id) override;
  void exec(const sandbox::ProcessRef& p, const std::string&, sandbox::ContainerStdio) override;
  void signal(const sandbox::ProcessRef& p, int sig, bool all) override;
  void pause(const std::string& id) override { record("pause " + id); }
  void resume(const std::string& id) override { record("resume " + id); }
  void update(const std::string& id, const std::string& json) override {
    record("update " + id + " " + json);
  }
  agent::v1::StatsContainerResponse stats(const std::string& id) override {
    record("stats " + id);
    return {};
  }
  std::vector<uint32_t> pids(const std::string& id) override {
    record("pids " + id);
    return {1, 7};
  }
  void resize(const sandbox::ProcessRef& p, uint32_t rows, uint32_t cols) override {
    record(fmt::format("resize {}/{} {}x{}", p.container_id, p.exec_id, rows, cols));
  }
  std::unique_ptr<ProcessFollower> follow(const sandbox::ProcessRef& p, sandbox::RelayFds,
                                          sandbox::ProcessWatch::OnEnd on_end) override;
  void watch_oom(std::function<void(const std::string&)> on_oom) override;
  void sync_oom() override;
  void stop() override { record("stop"); }

 private:
  void record(const std::string& call);
  std::shared_ptr<Shared> s_;
};

struct FakePodVm::Shared {
  std::mutex mu;
  std::vector<std::string> calls;
  std::map<std::string, sandbox::ProcessWatch::OnEnd> followed;  // "id/exec"
  std::function<void(const std::string&)> on_oom;
  // OOM kills the agent has and watch_oom has not passed on: sync_oom's.
  std::vector<std::string> pending_oom;
  std::optional<std::string> gone;  // the VM has died
  int boots = 0;
  bool vm_destroyed = false;
  std::string fail_start;                 // a Start of this id fails as the agent's would
  std::atomic<bool> fail_signal = false;  // signals fail as to an unreachable agent
  std::function<void()> during_start;     // runs inside start(), unlocked

  // Ends the followed process `key` ("id/exec") as its watch would.
  void end(const std::string& key, sandbox::ProcessEnd e);
  // The VM dies: every followed process is lost.
  void die(const std::string& why);
  std::vector<std::string> take_calls();
};

}  // namespace vmrt::shim::test
