#pragma once
// The guest's own figures as metrics: SandboxStats' answer (agent_query.h)
// as the guest's online vCPUs and per-container CPU, memory, pids and OOM
// kills, labelled `sandbox` and `container`.
//
// The answer comes from the guest, which its tenant may control: at most
// kMaxContainers containers are shown, each container id must be one the
// host would accept (common/container_id.h) and is shown once (a repeated
// one is skipped: two samples with the same labels would make Prometheus
// refuse the whole page).

#include <cstddef>
#include <string>

#include "monitor/prometheus_text.h"
#include "proto/agent.pb.h"

namespace vmrt::monitor {

inline constexpr size_t kMaxContainers = 256;

void add_agent_metrics(MetricSet& out, const std::string& sandbox,
                       const agent::v1::SandboxStatsResponse& stats);

}  // namespace vmrt::monitor
