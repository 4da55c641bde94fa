#include "monitor/agent_metrics.h"

#include <set>

#include "common/container_id.h"
#include "common/error.h"

namespace vmrt::monitor {
namespace {

constexpr MetricType C = MetricType::Counter;
constexpr MetricType G = MetricType::Gauge;

// A container id worth a label: what the host accepts, and not so long
// that one sample costs much (ids are 64 hex digits from containerd).
bool usable_id(const std::string& id) {
  if (id.size() > 128) return false;
  try {
    check_container_id(id);
    return true;
  } catch (const Error&) {
    return false;
  }
}

void add_container(MetricSet& out, const Labels& c, const agent::v1::StatsContainerResponse& s) {
  const auto& cpu = s.cpu();
  out.add("vmrt_container_cpu_seconds_total", C,
          "CPU time of the container's processes (cgroup cpu.stat usage_usec)", c,
          static_cast<double>(cpu.usage_usec()) / 1e6);
  out.add("vmrt_container_cpu_throttled_seconds_total", C,
          "time the container's processes were throttled by its CPU limit", c,
          static_cast<double>(cpu.throttled_usec()) / 1e6);
  if (s.has_memory()) {
    const auto& m = s.memory();
    out.add("vmrt_container_memory_usage_bytes", G,
            "memory charged to the container (cgroup memory.current)", c,
            static_cast<double>(m.current()));
    // As containerd's CRI and the kubelet count it: usage less the page
    // cache the kernel reclaims first.
    uint64_t working_set = m.current() > m.inactive_file() ? m.current() - m.inactive_file() : 0;
    out.add("vmrt_container_memory_working_set_bytes", G,
            "the container's memory usage less its inactive page cache", c,
            static_cast<double>(working_set));
    if (m.limit() > 0)
      out.add("vmrt_container_memory_limit_bytes", G, "the container's memory limit (memory.max)",
              c, static_cast<double>(m.limit()));
    out.add("vmrt_container_oom_kills_total", C,
            "processes of the container killed by the OOM killer (memory.events oom_kill)", c,
            static_cast<double>(m.oom_kill()));
  }
  if (s.has_pids())
    out.add("vmrt_container_pids", G, "processes and threads in the container (pids.current)", c,
            static_cast<double>(s.pids().current()));
}

}  // namespace

void add_agent_metrics(MetricSet& out, const std::string& sandbox,
                       const agent::v1::SandboxStatsResponse& stats) {
  if (stats.cpus_online() > 0)
    out.add("vmrt_vm_vcpus_online", G, "vCPUs the guest has online (as its agent reports)",
            {{"sandbox", sandbox}}, stats.cpus_online());
  std::set<std::string> seen;
  for (const auto& c : stats.containers()) {
    if (seen.size() == kMaxContainers) break;
    if (!usable_id(c.container_id()) || !seen.insert(c.container_id()).second) continue;
    add_container(out, {{"sandbox", sandbox}, {"container", c.container_id()}}, c.stats());
  }
}

}  // namespace vmrt::monitor
