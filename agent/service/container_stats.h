#pragma once
// A container's cgroup figures (Container::stats) as the agent API's
// StatsContainerResponse: for StatsContainer and SandboxStats.

#include "agent/container/container.h"
#include "proto/agent.pb.h"

namespace vmrt::agent {

void copy_stats(const Stats& s, v1::StatsContainerResponse& r);

}  // namespace vmrt::agent
