#include "tools/vmrt/runc_stats.h"

#include <cstdint>

namespace vmrt::cli {
namespace {

using nlohmann::json;

// Go's encoding/json omits a zero field tagged omitempty: so does runc.
void put_nonzero(json& j, const char* key, uint64_t value) {
  if (value != 0) j[key] = value;
}

json memory_entry(uint64_t limit, uint64_t usage) {
  json e = {{"limit", limit}, {"failcnt", 0}};
  put_nonzero(e, "usage", usage);
  return e;
}

// runc's io.stat reading: one entry per device and direction.
json blkio_entries(const agent::v1::StatsContainerResponse& s, bool bytes) {
  json out = json::array();
  for (const auto& d : s.io()) {
    for (auto [op, value] : {std::pair{"Read", bytes ? d.read_bytes() : d.read_ios()},
                             std::pair{"Write", bytes ? d.write_bytes() : d.write_ios()}}) {
      json e = {{"op", op}};
      put_nonzero(e, "major", d.major());
      put_nonzero(e, "minor", d.minor());
      put_nonzero(e, "value", value);
      out.push_back(e);
    }
  }
  return out;
}

}  // namespace

json runc_stats(const agent::v1::StatsContainerResponse& s) {
  // cgroup v2 counts CPU time in microseconds; runc reports nanoseconds.
  json usage = {{"kernel", s.cpu().system_usec() * 1000}, {"user", s.cpu().user_usec() * 1000}};
  put_nonzero(usage, "total", s.cpu().usage_usec() * 1000);
  json throttling = json::object();
  put_nonzero(throttling, "periods", s.cpu().nr_periods());
  put_nonzero(throttling, "throttledPeriods", s.cpu().nr_throttled());
  put_nonzero(throttling, "throttledTime", s.cpu().throttled_usec() * 1000);

  // memory.max "max" is the largest uint64 for runc; the guest reports 0.
  uint64_t limit = s.memory().limit() ? s.memory().limit() : UINT64_MAX;
  json memory = {{"usage", memory_entry(limit, s.memory().current())},
                 {"swap", memory_entry(0, 0)},
                 {"kernel", memory_entry(0, 0)},
                 {"kernelTCP", memory_entry(0, 0)}};
  put_nonzero(memory, "cache", s.memory().file());
  json raw = json::object();
  put_nonzero(raw, "anon", s.memory().anon());
  put_nonzero(raw, "file", s.memory().file());
  // Docker's stats show usage - inactive_file (cgroup v2's key) as in use.
  put_nonzero(raw, "inactive_file", s.memory().inactive_file());
  put_nonzero(raw, "active_file", s.memory().active_file());
  put_nonzero(raw, "pgfault", s.memory().pgfault());
  put_nonzero(raw, "pgmajfault", s.memory().pgmajfault());
  put_nonzero(raw, "oom", s.memory().oom_events());
  put_nonzero(raw, "oom_kill", s.memory().oom_kill());
  if (!raw.empty()) memory["raw"] = raw;

  json pids = json::object();
  put_nonzero(pids, "current", s.pids().current());
  put_nonzero(pids, "limit", s.pids().limit());

  json blkio = json::object();
  if (s.io_size() > 0) {
    blkio["ioServiceBytesRecursive"] = blkio_entries(s, true);
    blkio["ioServicedRecursive"] = blkio_entries(s, false);
  }

  return {{"cpu", {{"usage", usage}, {"throttling", throttling}}},
          {"cpuset",
           {{"cpu_exclusive", 0},
            {"mem_hardwall", 0},
            {"mem_exclusive", 0},
            {"memory_migrate", 0},
            {"memory_spread_page", 0},
            {"memory_spread_slab", 0},
            {"memory_pressure", 0},
            {"sched_load_balance", 0},
            {"sched_relax_domain_level", 0}}},
          {"memory", memory},
          {"pids", pids},
          {"blkio", blkio},
          {"hugetlb", json::object()},
          {"intel_rdt", json::object()},
          {"network_interfaces", nullptr}};
}

json runc_event(const std::string& type, const std::string& id, json data) {
  json e = {{"type", type}, {"id", id}};
  if (!data.is_null()) e["data"] = std::move(data);
  return e;
}

}  // namespace vmrt::cli
