// vmrt check: whether this host can run vmrt, one line per check.

#include <iostream>

#include "common/error.h"
#include "tools/vmrt/commands.h"
#include "tools/vmrt/host_check.h"

namespace vmrt::cli {

int cmd_check(const Globals& g, const CheckArgs& a) {
  if (a.format != "text" && a.format != "json") fail("--format {}: must be text or json", a.format);
  HostCheckInputs in{
      .vmrt_config = g.config, .state_root = g.root, .containerd_config = a.containerd_config};
  std::vector<CheckResult> results = run_host_checks(in);
  if (a.format == "json") {
    std::cout << to_json(results).dump(2) << "\n";
  } else {
    for (const auto& r : results) std::cout << format_line(r) << "\n";
  }
  return all_passed(results) ? 0 : 1;
}

}  // namespace vmrt::cli
