// vmrt events: runc's stats and OOM events of a container, from its guest.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>
#include <thread>

#include "common/error.h"
#include "tools/vmrt/commands.h"
#include "tools/vmrt/container_access.h"
#include "tools/vmrt/runc_stats.h"

namespace vmrt::cli {
namespace {

namespace v1 = sandbox::v1;

v1::StatsContainerResponse guest_stats(const ContainerRecord& r) {
  return ContainerAgent(r).calls.stats(r.id);
}

void print(const nlohmann::json& event) { std::cout << event.dump() << std::endl; }

bool running(const Globals& g, const std::string& id) {
  try {
    Status s = effective_status(g.store().read(id));
    return s == Status::Running || s == Status::Paused || s == Status::Created;
  } catch (const Error&) {
    return false;  // deleted meanwhile
  }
}

}  // namespace

std::chrono::nanoseconds parse_go_duration(const std::string& text) {
  // Go's time.ParseDuration for what a runc user writes: "5s", "500ms",
  // "1m30s", "1.5s"; units ns, us (µs), ms, s, m, h.
  static const std::pair<const char*, double> kUnits[] = {
      {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  double total = 0;
  size_t i = 0;
  if (text.empty()) fail("invalid duration \"{}\"", text);
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == start) fail("invalid duration \"{}\"", text);
    double number = std::stod(text.substr(start, i - start));
    size_t unit_start = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i])) && text[i] != '.')
      ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    auto u = std::find_if(std::begin(kUnits), std::end(kUnits),
                          [&](const auto& k) { return unit == k.first; });
    if (u == std::end(kUnits)) fail("invalid duration \"{}\": unknown unit \"{}\"", text, unit);
    total += number * u->second;
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

int cmd_events(const Globals& g, const EventsArgs& a) {
  auto interval = parse_go_duration(a.interval);
  if (interval.count() <= 0) fail("duration interval must be greater than 0");
  ContainerRecord r = g.store().read(a.id);
  if (effective_status(r) == Status::Stopped) fail("container with id {} is not running", a.id);
  if (a.stats) {
    print(runc_event("stats", a.id, runc_stats(guest_stats(r))));
    return 0;
  }
  // Until the container stops: stats every interval, an "oom" event first
  // whenever the guest's cgroup counted a new OOM since the last look.
  uint64_t ooms = guest_stats(r).memory().oom_events();
  for (;;) {
    std::this_thread::sleep_for(interval);
    if (!running(g, a.id)) return 0;
    v1::StatsContainerResponse s;
    try {
      s = guest_stats(r);
    } catch (const Error& e) {
      if (!running(g, a.id)) return 0;
      std::cerr << "vmrt events: " << e.what() << std::endl;  // as runc: logged, goes on
      continue;
    }
    for (; ooms < s.memory().oom_events(); ++ooms) print(runc_event("oom", a.id));
    print(runc_event("stats", a.id, runc_stats(s)));
  }
}

}  // namespace vmrt::cli
