// vmrt-agent: the sandbox VM's PID 1. Mounts the guest's filesystems, reaps
// orphans, and serves vmrt.agent.v1.Agent on vsock port 1024 so that the host
// can create and run containers in the VM. Run elsewhere (host tests) it
// skips the PID-1 duties and serves on the addresses given with --listen.
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <optional>

#include "agent/init/filesystems.h"
#include "agent/init/reaper.h"
#include "agent/init/signal_pipe.h"
#include "agent/service/acceptor.h"
#include "agent/service/agent_service.h"
#include "agent/service/listen_address.h"
#include "agent/service/port_forwarder.h"
#include "common/error.h"
#include "common/forward/forward_protocol.h"
#include "common/log.h"

namespace vmrt::agent {
namespace {

struct Flags {
  std::vector<std::string> listen;
  std::string forward_listen;  // the port forwarder's address; "": vsock:1025 as PID 1, else none
  std::string log_level;
  AgentOptions options;
};

int serve(const Flags& flags) {
  bool pid1 = ::getpid() == 1;
  if (pid1) {
    init::attach_console();
    init::mount_guest_filesystems();
  } else {
    // Orphans of container processes come to the agent, not to the host's init.
    check_sys(::prctl(PR_SET_CHILD_SUBREAPER, 1), "prctl(PR_SET_CHILD_SUBREAPER)");
  }
  init::catch_sigpipe();
  init::Reaper reaper;
  // The guest's PID 1 is never asked to stop: it serves until the VM ends
  // (its exit would panic the kernel). Elsewhere SIGTERM and SIGINT stop it.
  std::optional<init::SignalPipe> stop;
  if (!pid1) stop.emplace(std::initializer_list<int>{SIGTERM, SIGINT});

  std::vector<UniqueFd> listeners;
  std::vector<std::string> names = flags.listen;
  if (names.empty()) names.push_back(fmt::format("vsock:{}", kAgentVsockPort));
  for (const auto& name : names) listeners.push_back(listen_on(parse_listen_address(name)));

  AgentOptions options = flags.options;
  options.guest = pid1;
  AgentService service(options);
  // ttrpc's 4 MiB message limit bounds what a confused client can make the
  // agent buffer; container specs and stdin chunks are far smaller.
  ttrpc::ServerOptions server_options;
  // Calls that wait (output, OOM events, exits) end within this once the
  // agent stops.
  server_options.shutdown_grace = std::chrono::seconds(2);
  ttrpc::Server server(server_options);
  service.register_methods(server);
  // Port forwarding's guest end (port_forwarder.h).
  std::string forward_name = flags.forward_listen;
  if (forward_name.empty() && pid1)
    forward_name = fmt::format("vsock:{}", forward::kForwarderVsockPort);
  std::optional<PortForwarder> forwarder;
  try {
    if (!forward_name.empty()) forwarder.emplace(listen_on(parse_listen_address(forward_name)));
  } catch (const Error& e) {
    // The pod runs without port forwarding rather than not at all.
    spdlog::error("port forwarding unavailable: {}", e.what());
  }
  {
    Acceptor acceptor(server, std::move(listeners));
    spdlog::info("vmrt-agent {} serving on {}{}", VMRT_VERSION, fmt::join(names, ", "),
                 pid1 ? " as PID 1" : "");
    if (!stop)
      for (;;) ::pause();
    pollfd p{stop->fd(), POLLIN, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    spdlog::info("stopping on signal {}", stop->drain());
  }
  server.shutdown();
  return 0;
}

}  // namespace
}  // namespace vmrt::agent

int main(int argc, char** argv) {
  vmrt::agent::Flags flags;
  CLI::App app{"vmrt-agent: the sandbox VM's init and container agent"};
  app.add_option("--listen", flags.listen,
                 "vsock:PORT or unix:/PATH; repeatable (default vsock:1024)");
  app.add_option("--forward-listen", flags.forward_listen,
                 "the port forwarder's vsock:PORT or unix:/PATH (default vsock:1025 as PID 1)");
  app.add_option("--state-dir", flags.options.state_dir, "sandbox and container state")
      ->capture_default_str();
  app.add_option("--cgroup-root", flags.options.cgroup_root,
                 "cgroup v2 mount for the containers' cgroups")
      ->capture_default_str();
  app.add_option("--cpu-root", flags.options.cpu_root,
                 "the CPUs' sysfs directory OnlineCpus brings CPUs online in")
      ->capture_default_str();
  app.add_option("--log-level", flags.log_level, "trace|debug|info|warn|error");
  // The kernel passes init its command line's unknown words; ignore them.
  app.allow_extras(::getpid() == 1);
  CLI11_PARSE(app, argc, argv);
  try {
    vmrt::logging::init("vmrt-agent", flags.log_level);
    return vmrt::agent::serve(flags);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    if (::getpid() == 1) {
      // PID 1 must not exit (the kernel would panic); power the VM off so
      // that the host sees it end.
      ::sync();
      ::reboot(RB_POWER_OFF);
    }
    return 1;
  }
}
