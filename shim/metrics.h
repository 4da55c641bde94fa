#pragma once
// The guest's cgroup v2 figures for a container, in the type containerd
// (`ctr task metrics`, CRI ContainerStats) decodes for cgroup v2 hosts.

#include "github.com/containerd/cgroups/v2/stats/metrics.pb.h"
#include "proto/agent.pb.h"

namespace vmrt::shim {

io::containerd::cgroups::v2::Metrics to_metrics(const vmrt::agent::v1::StatsContainerResponse& s);

}  // namespace vmrt::shim
