// vmrt debug-console: a root shell in a container's guest, outside every
// container, for a guest that is stuck (what a container's exec cannot
// see: the agent, the other containers, the guest's own mounts). Only when
// the operator's configuration says so ([debug] console); the guest's
// agent refuses it too unless the sandbox was created with it on.

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "common/error.h"
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

}  // namespace

int cmd_debug_console(const Globals& g, const std::string& id) {
  check_container_id(id);
  if (!g.runtime_config().debug_console)
    fail(
        "the debug console is off: the runtime configuration ({}) must have [debug] console = "
        "true, and the container must have been created with it",
        g.config.empty() ? sandbox::kDefaultConfigPath : g.config);
  ContainerRecord r = g.store().read(id);
  require_status(r, "open a debug console in", {Status::Created, Status::Running, Status::Paused});
  // A terminal when there is one to give it; piped input runs as a script.
  bool terminal = ::isatty(STDIN_FILENO) == 1;
  SignalReader signals(forwarded_signals());  // before gRPC starts threads
  std::optional<RawTerminal> raw;
  if (terminal) raw.emplace(STDIN_FILENO);
  ContainerAgent vm(r);
  std::string exec_id = new_exec_id();
  sandbox::exec_in_guest(vm.agent, {id, exec_id}, shell_process(terminal).dump(), {terminal, true});
  sandbox::RelayFds fds{STDIN_FILENO, STDOUT_FILENO, terminal ? -1 : STDERR_FILENO};
  sandbox::ProcessEnd result =
      watch_process(vm.agent, id, exec_id, fds, terminal, STDIN_FILENO, signals, {});
  if (!result.error.empty()) {
    raw.reset();
    spdlog::error("debug console in {}: {}", id, result.error);
    std::fprintf(stderr, "vmrt: debug console in %s: %s\n", id.c_str(), result.error.c_str());
  }
  return result.status & 0xff;
}

}  // namespace vmrt::cli
