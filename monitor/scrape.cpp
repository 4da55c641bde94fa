#include "monitor/scrape.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <optional>
#include <vector>

#include "common/error.h"
#include "monitor/agent_metrics.h"
#include "monitor/agent_query.h"
#include "monitor/bounded_file.h"
#include "monitor/control_query.h"
#include "monitor/vm_metrics.h"

namespace vmrt::monitor {
namespace {

// What one VM gave: its own metrics, or why there are none.
struct VmResult {
  MetricSet metrics;
  std::vector<std::string> errors;
};

VmResult scrape_vm(const PodVmRef& vm, std::chrono::milliseconds timeout, bool ask_agent) {
  VmResult r;
  try {
    auto replies =
        query_control(vm.control_socket, {{{"cmd", "info"}}, {{"cmd", "counters"}}}, timeout);
    add_info_metrics(r.metrics, vm.sandbox, replies[0]);
    add_counter_metrics(r.metrics, vm.sandbox, replies[1]);
  } catch (const Error& e) {
    r.errors.push_back(fmt::format("sandbox {}: {}", vm.sandbox, e.what()));
    // Without an answer, nothing about this VM: not even its process
    // figures, so that a series never appears without the others.
    return r;
  }
  if (!vm.start_times.empty()) {
    try {
      if (auto text = read_bounded(vm.start_times, 4096)) {
        auto times = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
        if (!times.is_object()) fail("{}: not a JSON object", vm.start_times.string());
        add_start_metrics(r.metrics, vm.sandbox, times);
      }
    } catch (const Error& e) {
      r.errors.push_back(fmt::format("sandbox {}: {}", vm.sandbox, e.what()));
    }
  }
  if (ask_agent && !vm.vm_socket.empty()) {
    // The VMM answered: a guest that does not (still booting, or hostile)
    // costs only its own figures.
    try {
      if (auto stats = query_agent_stats(vm.vm_socket, timeout))
        add_agent_metrics(r.metrics, vm.sandbox, *stats);
    } catch (const Error& e) {
      r.errors.push_back(fmt::format("sandbox {}: {}", vm.sandbox, e.what()));
    }
  }
  try {
    add_process_metrics(r.metrics, vm.sandbox, read_process_figures(vm.vmm_pid));
  } catch (const Error& e) {
    r.errors.push_back(
        fmt::format("sandbox {}: VMM process {}: {}", vm.sandbox, vm.vmm_pid, e.what()));
  }
  return r;
}

}  // namespace

std::string Scraper::scrape() {
  Discovery found = discover_pod_vms(options_.roots);
  std::vector<std::string> errors = std::move(found.errors);
  std::vector<VmResult> results;
  const size_t batch = std::max(1u, options_.parallel);
  for (size_t first = 0; first < found.vms.size(); first += batch) {
    std::vector<std::future<VmResult>> running;
    for (size_t i = first; i < std::min(found.vms.size(), first + batch); ++i)
      running.push_back(std::async(std::launch::async, scrape_vm, std::cref(found.vms[i]),
                                   options_.vm_timeout, options_.ask_agents));
    for (auto& f : running) results.push_back(f.get());
  }

  MetricSet out;
  out.add("vmrt_pods", MetricType::Gauge, "pod VMs found running on the node", {},
          static_cast<double>(found.vms.size()));
  for (auto& r : results)
    for (auto& e : r.errors) errors.push_back(std::move(e));
  for (const auto& e : errors) spdlog::warn("scrape: {}", e);
  errors_ += errors.size();
  out.add("vmrt_monitor_scrape_errors_total", MetricType::Counter,
          "pod VMs and records that could not be read, over the monitor's life", {},
          static_cast<double>(errors_.load()));
  for (const auto& r : results) out.append(r.metrics);
  return out.text();
}

}  // namespace vmrt::monitor
