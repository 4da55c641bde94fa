#include "agent/service/container_stats.h"

namespace vmrt::agent {

void copy_stats(const Stats& s, v1::StatsContainerResponse& r) {
  auto* cpu = r.mutable_cpu();
  cpu->set_usage_usec(s.cpu.usage_usec);
  cpu->set_user_usec(s.cpu.user_usec);
  cpu->set_system_usec(s.cpu.system_usec);
  cpu->set_nr_periods(s.cpu.nr_periods);
  cpu->set_nr_throttled(s.cpu.nr_throttled);
  cpu->set_throttled_usec(s.cpu.throttled_usec);
  if (s.memory) {
    auto* m = r.mutable_memory();
    m->set_current(s.memory->current);
    m->set_limit(s.memory->max.value_or(0));
    auto stat = [&](const char* key) {
      auto it = s.memory->stat.find(key);
      return it == s.memory->stat.end() ? 0 : it->second;
    };
    m->set_anon(stat("anon"));
    m->set_file(stat("file"));
    m->set_inactive_file(stat("inactive_file"));
    m->set_active_file(stat("active_file"));
    m->set_pgfault(stat("pgfault"));
    m->set_pgmajfault(stat("pgmajfault"));
    m->set_oom_events(s.memory->oom);
    m->set_oom_kill(s.memory->oom_kill);
  }
  if (s.pids) {
    r.mutable_pids()->set_current(s.pids->current);
    r.mutable_pids()->set_limit(s.pids->max.value_or(0));
  }
  if (s.io) {
    for (const auto& d : *s.io) {
      auto* io = r.add_io();
      io->set_major(d.major);
      io->set_minor(d.minor);
      io->set_read_bytes(d.rbytes);
      io->set_write_bytes(d.wbytes);
      io->set_read_ios(d.rios);
      io->set_write_ios(d.wios);
    }
  }
}

}  // namespace vmrt::agent
