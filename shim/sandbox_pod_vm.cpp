#include "shim/sandbox_pod_vm.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "shim/vmm_pid_file.h"

namespace vmrt::shim {
namespace {

using namespace std::chrono_literals;
namespace v1 = sandbox::v1;

class WatchFollower : public ProcessFollower {
 public:
  WatchFollower(sandbox::Sandbox& sb, const sandbox::ProcessRef& p, sandbox::RelayFds fds,
                sandbox::ProcessWatch::OnEnd on_end)
      : watch_(
            sb.agent(), p, fds, [&sb] { return sb.vm_gone(); }, std::move(on_end)) {}

 private:
  sandbox::ProcessWatch watch_;
};

}  // namespace

SandboxPodVm::SandboxPodVm(const PodLocation& where, ThreadRunner& spawner, PodVmOptions o)
    : pod_(o.pod) {
  sandbox::SandboxOptions so;
  // The sum of the pod's limits, which containerd's CRI plugin passes on
  // the sandbox's spec: the VM is that large from the start. Read before
  // anything of the pod exists: a malformed value leaves nothing behind.
  so.demand = sandbox::pod_demand(o.spec->annotations);
  std::filesystem::create_directories(where.sandbox_dir());
  so.id = o.pod;
  so.config = std::move(o.config);
  so.dir = where.sandbox_dir();
  so.hostname = o.spec->hostname.empty() ? o.pod : o.spec->hostname;
  // CRI's pod network namespace, which CNI configured: the VM's NIC takes
  // over its interface. The path stays in the spec: in the guest a network
  // namespace with a path is the agent's, where the NIC is.
  so.network_namespace = sandbox::network_namespace_of(*o.spec);
  // CRI's cgroup for the sandbox, below the pod's: the VM is accounted there.
  so.pod_cgroup = o.spec->linux.cgroups_path;
  sandbox_ = spawner.run([&so] { return sandbox::Sandbox::start(std::move(so)); });
  // The shim is part of what the pod costs too.
  sandbox_->join_shim_cgroup();
  record_vmm(where.dir, sandbox_->vmm_pid(), pod_);
  auto t = sandbox_->start_times();
  spdlog::info("pod {}: VM up: vmm ready {} ms, agent ready {} ms, sandbox ready {} ms", pod_,
               t.vmm_ready.count(), t.agent_ready.count(), t.sandbox_ready.count());
  // For vmrt-monitor, which shows them per pod.
  record_start_times(where.dir, nlohmann::json{{"vmm_ready_ms", t.vmm_ready.count()},
                                               {"agent_ready_ms", t.agent_ready.count()},
                                               {"sandbox_ready_ms", t.sandbox_ready.count()},
                                               {"from_template", t.from_template}}
                                    .dump());
}

SandboxPodVm::~SandboxPodVm() { oom_thread_ = {}; }

uint32_t SandboxPodVm::create_container(const std::string& id, const oci::Spec& spec,
                                        const std::filesystem::path& rootfs,
                                        sandbox::ContainerStdio stdio) {
  return sandbox_->create_container(id, spec, rootfs, stdio);
}

// PodTasks asks only while the VM runs.
void SandboxPodVm::remove_container(const std::string& id) { sandbox_->remove_container(id, true); }

std::unique_ptr<ProcessFollower> SandboxPodVm::follow(const sandbox::ProcessRef& p,
                                                      sandbox::RelayFds fds,
                                                      sandbox::ProcessWatch::OnEnd on_end) {
  return std::make_unique<WatchFollower>(*sandbox_, p, fds, std::move(on_end));
}

void SandboxPodVm::watch_oom(std::function<void(const std::string&)> on_oom) {
  on_oom_ = std::move(on_oom);
  oom_thread_ = std::jthread([this](std::stop_token stop) { follow_oom(stop); });
}

void SandboxPodVm::deliver_oom(const v1::OomEventsResponse& r) {
  std::lock_guard lock(oom_mu_);
  const auto count = static_cast<uint64_t>(r.container_ids_size());
  const uint64_t first = r.last() >= count ? r.last() - count + 1 : 1;
  if (r.last() > oom_last_ && r.last() - oom_last_ > count)
    spdlog::warn("OOM events: missed {}", r.last() - oom_last_ - count);
  for (uint64_t i = 0; i < count; ++i)
    if (first + i > oom_last_) on_oom_(r.container_ids(static_cast<int>(i)));
  oom_last_ = std::max(oom_last_, r.last());
}

void SandboxPodVm::follow_oom(std::stop_token stop) {
  v1::OomEventsRequest req;
  req.set_wait_ms(1000);
  while (!stop.stop_requested()) {
    {
      std::lock_guard lock(oom_mu_);
      req.set_after(oom_last_);
    }
    v1::OomEventsResponse r;
    try {
      r = sandbox_->agent().oom_events(req, {30s, stop});
    } catch (const sandbox::AgentError& e) {
      if (!stop.stop_requested()) spdlog::debug("OOM events: {}", e.what());
      return;
    }
    deliver_oom(r);
    if (r.closed()) return;
  }
}

void SandboxPodVm::sync_oom() {
  if (!on_oom_) return;
  v1::OomEventsRequest req;
  {
    std::lock_guard lock(oom_mu_);
    req.set_after(oom_last_);
  }
  req.set_wait_ms(1);  // what is recorded now, not what may come
  try {
    deliver_oom(sandbox_->agent().oom_events(req, {5s}));
  } catch (const std::exception& e) {
    // The exit goes out regardless; the watch thread may still pass it on.
    spdlog::debug("OOM events before an exit: {}", e.what());
  }
}

void SandboxPodVm::stop() {
  std::lock_guard lock(stop_mu_);  // a failed Create and stop() may meet
  oom_thread_ = {};                // stops and joins: it uses the agent
  sandbox_->stop();
}

}  // namespace vmrt::shim
