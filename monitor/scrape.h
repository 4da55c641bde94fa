#pragma once
// One scrape: the node's pod VMs found afresh (discovery.h), each VMM asked
// for its figures (control_query.h) and measured in procfs
// (process_figures.h), each guest's agent asked for its own (agent_query.h),
// all of it as Prometheus text. VMs are asked in
// parallel, a few at a time, so that VMs that do not answer delay the
// scrape by one timeout per batch, not one each.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "monitor/discovery.h"

namespace vmrt::monitor {

struct ScrapeOptions {
  StateRoots roots;
  // How long one VMM has to answer; one that does not is skipped and
  // counted as a scrape error.
  std::chrono::milliseconds vm_timeout{500};
  // VMs asked at once.
  unsigned parallel = 8;
  // Whether each VM's agent is asked for the guest's figures
  // (agent_query.h), within its own vm_timeout after the VMM's.
  bool ask_agents = true;
};

class Scraper {
 public:
  explicit Scraper(ScrapeOptions options) : options_(std::move(options)) {}

  // The exposition text. Never throws for a VM that cannot be read: that is
  // a scrape error, counted (vmrt_monitor_scrape_errors_total) and logged.
  std::string scrape();

 private:
  ScrapeOptions options_;
  // Counted over the monitor's life, across scrapes (a counter).
  std::atomic<uint64_t> errors_{0};
};

}  // namespace vmrt::monitor
