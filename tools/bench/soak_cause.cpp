// soak_cause: prints the cause of one failed boot or `vmrt run` (as
// failure_cause() says it) from its evidence, for tools/rig/soak.sh, so that
// the shell phases and pod_soak count failures by the same rules.
//
//   soak_cause --call NAME [--status N] [--timed-out] [--expect LINE]...
//              [--error FILE] [LOG_FILE...]

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <sstream>

#include "tools/bench/failure_cause.h"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"the cause of a failed guest boot, from its evidence"};
  vmrt::bench::FailureEvidence e;
  std::string error_file;
  std::vector<std::string> logs;
  app.add_option("--call", e.call, "what failed: vmrt run, vmrt-vmm, qemu-microvm")->required();
  app.add_option("--status", e.exit_status, "its exit status");
  app.add_flag("--timed-out", e.timed_out, "it ran out of time");
  // One line per --expect: a vector option would otherwise also swallow the
  // log files after it.
  app.add_option("--expect", e.expected, "a line the output must contain")->allow_extra_args(false);
  app.add_option("--error", error_file, "its error output");
  app.add_option("logs", logs, "its log and console");
  CLI11_PARSE(app, argc, argv);
  if (!error_file.empty()) e.error = slurp(error_file);
  for (const auto& l : logs) e.log += slurp(l) + "\n";
  fmt::print("{}\n", vmrt::bench::failure_cause(e));
  return 0;
}
