#include "shim/metrics.h"

namespace vmrt::shim {

io::containerd::cgroups::v2::Metrics to_metrics(const vmrt::agent::v1::StatsContainerResponse& s) {
  io::containerd::cgroups::v2::Metrics m;
  if (s.has_pids()) {
    m.mutable_pids()->set_current(s.pids().current());
    m.mutable_pids()->set_limit(s.pids().limit());
  }
  if (s.has_cpu()) {
    auto* c = m.mutable_cpu();
    c->set_usage_usec(s.cpu().usage_usec());
    c->set_user_usec(s.cpu().user_usec());
    c->set_system_usec(s.cpu().system_usec());
    c->set_nr_periods(s.cpu().nr_periods());
    c->set_nr_throttled(s.cpu().nr_throttled());
    c->set_throttled_usec(s.cpu().throttled_usec());
  }
  if (s.has_memory()) {
    auto* mem = m.mutable_memory();
    mem->set_usage(s.memory().current());
    // The guest reports 0 for "max"; containerd's own cgroup v2 reader
    // reports the largest value then, which CRI shows as "no limit".
    mem->set_usage_limit(s.memory().limit() ? s.memory().limit() : UINT64_MAX);
    mem->set_anon(s.memory().anon());
    mem->set_file(s.memory().file());
    // containerd's CRI takes the working set as usage - inactive_file
    // (getWorkingSetV2) and the RSS as anon, as from runc's cgroup v2 reads.
    mem->set_inactive_file(s.memory().inactive_file());
    mem->set_active_file(s.memory().active_file());
    mem->set_pgfault(s.memory().pgfault());
    mem->set_pgmajfault(s.memory().pgmajfault());
    m.mutable_memory_events()->set_oom(s.memory().oom_events());
    m.mutable_memory_events()->set_oom_kill(s.memory().oom_kill());
  }
  for (const auto& d : s.io()) {
    auto* e = m.mutable_io()->add_usage();
    e->set_major(d.major());
    e->set_minor(d.minor());
    e->set_rbytes(d.read_bytes());
    e->set_wbytes(d.write_bytes());
    e->set_rios(d.read_ios());
    e->set_wios(d.write_ios());
  }
  return m;
}

}  // namespace vmrt::shim
