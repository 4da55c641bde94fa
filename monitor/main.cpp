// vmrt-monitor: the node's pod VMs as Prometheus metrics. Serves GET
// /metrics on --listen; every scrape finds the running VMs afresh in the
// vmrt CLI's and the containerd shim's state directories and asks each
// VMM's control socket, and each guest's agent, for its figures. Runs until SIGTERM or SIGINT.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "common/error.h"
#include "common/log.h"
#include "monitor/http_server.h"
#include "monitor/scrape.h"

namespace vmrt::monitor {
namespace {

int run(int argc, char** argv) {
  CLI::App app{"vmrt-monitor: Prometheus metrics of the node's vmrt pod VMs", "vmrt-monitor"};
  std::string listen = "127.0.0.1:8090";
  ScrapeOptions options;
  options.roots.shim = default_shim_root();
  std::string cli_root = options.roots.cli.string();
  std::string shim_root = options.roots.shim.string();
  unsigned timeout_ms = static_cast<unsigned>(options.vm_timeout.count());
  std::string log_level;
  app.add_option("--listen", listen, "ADDR:PORT to serve /metrics on ([ADDR]:PORT for IPv6)")
      ->capture_default_str();
  app.add_option("--root", cli_root, "the vmrt CLI's state root")->capture_default_str();
  app.add_option("--shim-root", shim_root, "the containerd shim's state root")
      ->capture_default_str();
  app.add_option("--vm-timeout-ms", timeout_ms,
                 "how long one VMM has to answer before it is skipped as a scrape error")
      ->capture_default_str()
      ->check(CLI::Range(1u, 60000u));
  bool no_agent = false;
  app.add_flag("--no-agent", no_agent,
               "do not ask the guests' agents for their figures (online vCPUs, containers)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error (default: info)");
  CLI11_PARSE(app, argc, argv);
  logging::init("vmrt-monitor", log_level);
  options.roots.cli = cli_root;
  options.roots.shim = shim_root;
  options.vm_timeout = std::chrono::milliseconds(timeout_ms);
  options.ask_agents = !no_agent;

  // Blocked before any thread starts, so that every thread inherits the
  // mask and only sigwait below takes them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  Scraper scraper(options);
  HttpServer server(listen_tcp(listen), [&scraper] { return scraper.scrape(); });
  spdlog::info("serving /metrics on {} (port {})", listen, server.port());
  int sig = 0;
  sigwait(&stop, &sig);
  spdlog::info("stopping on signal {}", sig);
  return 0;
}

}  // namespace
}  // namespace vmrt::monitor

int main(int argc, char** argv) {
  try {
    return vmrt::monitor::run(argc, argv);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
