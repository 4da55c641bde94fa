// vmrt exec: a new process in a running container, followed to its end by
// this process (or, with --detach, by a worker that outlives it).

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

#include "common/error.h"
#include "tools/vmrt/commands.h"
#include "tools/vmrt/container_access.h"
#include "tools/vmrt/detached_worker.h"
#include "tools/vmrt/exec_process.h"
#include "tools/vmrt/pid_file.h"
#include "tools/vmrt/process_watch.h"
#include "tools/vmrt/terminal.h"

namespace vmrt::cli {
namespace {

// Starts the process and follows it; `report` (detached) hears once it runs.
int exec_and_follow(const ExecArgs& a, const ContainerRecord& r, const nlohmann::json& process,
                    WorkerReport* report) {
  SignalReader signals(forwarded_signals());  // before gRPC starts threads
  bool terminal = process.value("terminal", false);
  std::optional<RawTerminal> raw;
  if (terminal && !report && a.console_socket.empty()) raw.emplace(STDIN_FILENO);
  ContainerAgent vm(r);
  std::string exec_id = new_exec_id();
  vm.calls.exec({a.id, exec_id}, process.dump(), {terminal, true});

  sandbox::RelayFds fds{STDIN_FILENO, STDOUT_FILENO, terminal ? -1 : STDERR_FILENO};
  std::optional<Pty> pty;
  if (!a.console_socket.empty()) {
    pty = Pty::for_console_socket(a.console_socket);
    fds = {pty->slave.get(), pty->slave.get(), -1};
    if (report) detach_stdio();
  }
  if (!a.pid_file.empty()) write_pid_file(a.pid_file, ::getpid());
  if (report) report->ok();
  sandbox::ProcessEnd result = watch_process(vm.agent, a.id, exec_id, fds, terminal,
                                             pty ? pty->slave.get() : STDIN_FILENO, signals, {});
  if (!result.error.empty()) {
    spdlog::error("exec in {}: {}", a.id, result.error);
    if (!report) std::fprintf(stderr, "vmrt: exec in %s: %s\n", a.id.c_str(), result.error.c_str());
  }
  return result.status & 0xff;
}

}  // namespace

int cmd_exec(const Globals& g, const ExecArgs& a) {
  check_container_id(a.id);
  ContainerRecord r = g.store().read(a.id);
  require_status(r, "exec in", {Status::Created, Status::Running});
  nlohmann::json process = exec_process(a, oci::load_spec(r.bundle, oci::Purpose::Inspect));
  bool terminal = process.value("terminal", false);
  if (terminal && a.detach && a.console_socket.empty())
    fail(
        "--tty with --detach needs --console-socket: a detached process needs somewhere to send "
        "its terminal");
  if (!a.console_socket.empty() && !terminal)
    fail("--console-socket given but the process has no terminal (use --tty)");
  if (!a.detach) return exec_and_follow(a, r, process, nullptr);
  std::string pid_file = a.pid_file.empty() ? "" : std::filesystem::absolute(a.pid_file).string();
  ExecArgs args = a;
  args.pid_file = pid_file;
  start_worker([&](WorkerReport& report) { return exec_and_follow(args, r, process, &report); });
  return 0;
}

}  // namespace vmrt::cli
