// AgentService::SandboxStats: what a node's monitor shows of the guest
// (docs/metrics.md), in one call that changes nothing and waits for no
// other call.
#include <spdlog/spdlog.h>

#include "agent/init/cpu_online.h"
#include "agent/service/agent_service.h"
#include "agent/service/container_stats.h"
#include "common/error.h"

namespace vmrt::agent {

v1::SandboxStatsResponse AgentService::SandboxStats(const ttrpc::Context&,
                                                    const v1::SandboxStatsRequest&) {
  v1::SandboxStatsResponse r;
  // Read, never written here: harmless for an agent on a host too. A CPU
  // tree that cannot be read leaves both at 0 (unknown), the containers'
  // figures still answered.
  try {
    CpuCounts cpus = cpu_counts(options_.cpu_root);
    r.set_cpus_online(cpus.online);
    r.set_cpus_present(cpus.present);
  } catch (const Error& e) {
    spdlog::debug("SandboxStats: CPU counts: {}", e.what());
  }
  std::vector<std::pair<std::string, std::shared_ptr<Entry>>> entries;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : entries_)
      if (e) entries.emplace_back(id, e);  // nullptr: still being created
  }
  for (const auto& [id, e] : entries) {
    // A container busy with another call is skipped: a monitor's scrape
    // must not queue behind a slow start or update.
    std::unique_lock lock(e->mu, std::try_to_lock);
    if (!lock || e->removed) continue;
    auto* c = r.add_containers();
    c->set_container_id(id);
    copy_stats(e->container->stats(), *c->mutable_stats());
    c->mutable_stats()->clear_io();
  }
  return r;
}

}  // namespace vmrt::agent
