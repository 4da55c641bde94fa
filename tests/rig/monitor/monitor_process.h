#pragma once
// The real vmrt-monitor binary for rig tests: started on a fixed loopback
// port (the rig is a VM of its own) over given state roots, scraped over
// HTTP.

#include <filesystem>
#include <optional>
#include <string>

#include "common/process.h"

namespace vmrt::monitor::test {

class MonitorProcess {
 public:
  // Starts vmrt-monitor over the CLI root `cli_root` and the shim root
  // `shim_root`, and waits until it answers (a bounded number of tries).
  MonitorProcess(const std::filesystem::path& cli_root, const std::filesystem::path& shim_root);

  // GET /metrics: the whole response, head included; nullopt while nothing
  // listens.
  std::optional<std::string> scrape() const;

 private:
  Subprocess process_;
};

// The value of the sample line that starts with `series` ("name{labels}").
std::optional<double> sample(const std::string& page, const std::string& series);

}  // namespace vmrt::monitor::test
