// AgentService::OnlineCpus: vCPU hotplug (agent/init/cpu_online.h). Needs no
// sandbox: a VM restored from a template may be resized before
// CreateSandbox.
#include <spdlog/spdlog.h>

#include "agent/init/cpu_online.h"
#include "agent/service/agent_service.h"
#include "agent/service/request_error.h"

namespace vmrt::agent {

v1::OnlineCpusResponse AgentService::OnlineCpus(const ttrpc::Context&,
                                                const v1::OnlineCpusRequest& req) {
  // An agent on a host (tests, benchmarks) must never hotplug the host's
  // CPUs: there it works only in a tree it was given.
  if (!options_.guest && options_.cpu_root == kSysCpuRoot)
    reject(Code::FailedPrecondition,
           "OnlineCpus: this agent is not a VM's PID 1; it takes no host CPU offline "
           "(--cpu-root names a CPU tree to use)");
  std::lock_guard lock(cpu_mu_);
  CpuCounts c = set_online_cpus(options_.cpu_root, req.count());
  spdlog::info("CPUs online: {} of {} present", c.online, c.present);
  v1::OnlineCpusResponse r;
  r.set_online(c.online);
  r.set_present(c.present);
  return r;
}

}  // namespace vmrt::agent
