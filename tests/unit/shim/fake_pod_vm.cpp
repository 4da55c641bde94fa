#include "tests/unit/shim/fake_pod_vm.h"

#include <signal.h>

namespace vmrt::shim::test {
namespace {

std::string key_of(const sandbox::ProcessRef& p) { return p.container_id + "/" + p.exec_id; }

class FakeFollower : public ProcessFollower {
 public:
  FakeFollower(std::shared_ptr<FakePodVm::Shared> s, std::string key)
      : s_(std::move(s)), key_(std::move(key)) {}
  ~FakeFollower() override {
    std::lock_guard lock(s_->mu);
    s_->followed.erase(key_);
  }

 private:
  std::shared_ptr<FakePodVm::Shared> s_;
  std::string key_;
};

}  // namespace

FakePodVm::~FakePodVm() {
  std::lock_guard lock(s_->mu);
  s_->vm_destroyed = true;
}

void FakePodVm::record(const std::string& call) {
  std::lock_guard lock(s_->mu);
  s_->calls.push_back(call);
}

std::optional<std::string> FakePodVm::vm_gone() {
  std::lock_guard lock(s_->mu);
  return s_->gone;
}

uint32_t FakePodVm::create_container(const std::string& id, const oci::Spec&,
                                     const std::filesystem::path&, sandbox::ContainerStdio) {
  record("create " + id);
  return 1;
}

void FakePodVm::start(const std::string& id) {
  record("start " + id);
  std::function<void()> during;
  {
    std::lock_guard lock(s_->mu);
    if (s_->fail_start == id)
      throw sandbox::AgentError("agent: StartContainer: no such file", ttrpc::Code::NotFound);
    during = s_->during_start;
  }
  if (during) during();
  record("started " + id);
}

void FakePodVm::exec(const sandbox::ProcessRef& p, const std::string&, sandbox::ContainerStdio) {
  record("exec " + key_of(p));
}

void FakePodVm::signal(const sandbox::ProcessRef& p, int sig, bool all) {
  record(fmt::format("signal {} {}{}", key_of(p), sig, all ? " all" : ""));
  if (s_->fail_signal)
    throw sandbox::AgentError("agent: SignalProcess: the sandbox VM is not reachable",
                              ttrpc::Code::Unavailable);
}

std::unique_ptr<ProcessFollower> FakePodVm::follow(const sandbox::ProcessRef& p, sandbox::RelayFds,
                                                   sandbox::ProcessWatch::OnEnd on_end) {
  std::lock_guard lock(s_->mu);
  s_->followed[key_of(p)] = std::move(on_end);
  return std::make_unique<FakeFollower>(s_, key_of(p));
}

void FakePodVm::watch_oom(std::function<void(const std::string&)> on_oom) {
  std::lock_guard lock(s_->mu);
  s_->on_oom = std::move(on_oom);
}

void FakePodVm::sync_oom() {
  record("sync_oom");
  std::vector<std::string> kills;
  std::function<void(const std::string&)> on_oom;
  {
    std::lock_guard lock(s_->mu);
    kills.swap(s_->pending_oom);
    on_oom = s_->on_oom;
  }
  for (const auto& id : kills) on_oom(id);
}

void FakePodVm::Shared::end(const std::string& key, sandbox::ProcessEnd e) {
  sandbox::ProcessWatch::OnEnd on_end;
  {
    std::lock_guard lock(mu);
    auto it = followed.find(key);
    if (it == followed.end()) throw Error("nobody follows " + key);
    on_end = it->second;
  }
  on_end(e);  // as the watch's thread would: without the fake's lock
}

void FakePodVm::Shared::die(const std::string& why) {
  std::vector<sandbox::ProcessWatch::OnEnd> ends;
  {
    std::lock_guard lock(mu);
    gone = why;
    for (auto& [key, on_end] : followed) ends.push_back(on_end);
  }
  for (auto& on_end : ends)
    on_end({sandbox::kVmLostStatus, "the sandbox VM ended before the process did: " + why, false});
}

std::vector<std::string> FakePodVm::Shared::take_calls() {
  std::lock_guard lock(mu);
  return std::exchange(calls, {});
}

}  // namespace vmrt::shim::test
