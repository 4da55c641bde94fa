// vmrt debug-console: a root shell in a container's guest, outside every
// container, for a guest that is stuck (what a container's exec cannot
// see: the agent, the other containers, the guest's own mounts). Only when
// the operator's configuration says so ([debug] console); the guest's
// agent refuses it too unless the sandbox was created with it on.
//
// ID is a container of this CLI, or else a pod (sandbox) id of the
// containerd shim's (crictl pods): its VM is found where the shim records
// its pods (VMRT_SHIM_ROOT, default /run/vmrt/shim), as vmrt-monitor finds
// it.

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "common/error.h"
#include "monitor/discovery.h"
#include "sandbox/vmm_command.h"
#include "tools/vmrt/commands.h"
#include "tools/vmrt/container_access.h"
#include "tools/vmrt/exec_process.h"
#include "tools/vmrt/process_watch.h"
#include "tools/vmrt/terminal.h"

namespace vmrt::cli {
namespace {

// The guest image's shell, as guest root. TERM follows the caller's
// terminal so that the shell's line editing draws right.
nlohmann::json shell_process(bool terminal) {
  const char* term = std::getenv("TERM");
  return {{"args", {"/bin/sh"}},
          {"cwd", "/"},
          {"terminal", terminal},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"env",
           {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/",
            std::string("TERM=") + (term && *term ? term : "xterm")}}};
}

// The agent of a shim pod's VM; nullopt when no running shim pod has this
// id. The same id under two containerd namespaces or instances is refused
// rather than guessed.
std::optional<sandbox::AgentClient> shim_pod_agent(const std::string& id) {
  monitor::StateRoots roots{.cli = {}, .shim = monitor::default_shim_root()};
  std::vector<monitor::PodVmRef> found;
  for (auto& vm : monitor::discover_pod_vms(roots).vms)
    if (vm.sandbox == id) found.push_back(std::move(vm));
  if (found.empty()) return std::nullopt;
  if (found.size() > 1)
    fail(
        "pod {} runs {} times under {} (several containerd namespaces or instances): stop the "
        "others or set VMRT_SHIM_ROOT",
        id, found.size(), roots.shim.string());
  // control_socket is SANDBOX/vm/control.sock; the agent is on SANDBOX's vsock.
  sandbox::SandboxPaths paths(found[0].control_socket.parent_path().parent_path());
  try {
    return sandbox::AgentClient::connect(paths.vm_socket());
  } catch (const Error& e) {
    fail("pod {}: cannot reach its sandbox VM: {}", id, e.what());
  }
}

// The agent of ID's VM: the CLI's container, else the shim's pod.
sandbox::AgentClient agent_of(const Globals& g, const std::string& id) {
  std::optional<ContainerRecord> r;
  try {
    r = g.store().read(id);
  } catch (const Error&) {
    if (auto agent = shim_pod_agent(id)) return std::move(*agent);
    throw;  // "container ID does not exist", as for the CLI's own commands
  }
  require_status(*r, "open a debug console in", {Status::Created, Status::Running, Status::Paused});
  return connect_agent(*r);
}

}  // namespace

int cmd_debug_console(const Globals& g, const std::string& id) {
  check_container_id(id);
  if (!g.runtime_config().debug_console)
    fail(
        "the debug console is off: the runtime configuration ({}) must have [debug] console = "
        "true, and the container must have been created with it",
        g.config.empty() ? sandbox::kDefaultConfigPath : g.config);
  sandbox::AgentClient agent = agent_of(g, id);
  // A terminal when there is one to give it; piped input runs as a script.
  bool terminal = ::isatty(STDIN_FILENO) == 1;
  SignalReader signals(forwarded_signals());  // before gRPC starts threads
  std::optional<RawTerminal> raw;
  if (terminal) raw.emplace(STDIN_FILENO);
  std::string exec_id = new_exec_id();
  sandbox::exec_in_guest(agent, {id, exec_id}, shell_process(terminal).dump(), {terminal, true});
  sandbox::RelayFds fds{STDIN_FILENO, STDOUT_FILENO, terminal ? -1 : STDERR_FILENO};
  sandbox::ProcessEnd result =
      watch_process(agent, id, exec_id, fds, terminal, STDIN_FILENO, signals, {});
  if (!result.error.empty()) {
    raw.reset();
    spdlog::error("debug console in {}: {}", id, result.error);
    std::fprintf(stderr, "vmrt: debug console in %s: %s\n", id.c_str(), result.error.c_str());
  }
  return result.status & 0xff;
}

}  // namespace vmrt::cli
