// vmrt create and vmrt run: check everything that can be checked before a
// VM exists, then hand the container to its keeper (keeper.h).

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "common/error.h"
#include "common/oci/spec.h"
#include "sandbox/host_kvm.h"
#include "sandbox/sandbox.h"
#include "tools/vmrt/commands.h"
#include "tools/vmrt/forwarded_signals.h"
#include "tools/vmrt/keeper.h"
#include "tools/vmrt/log_setup.h"
#include "tools/vmrt/terminal.h"

namespace vmrt::cli {
namespace {

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  std::time_t secs = ns / 1000000000;
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:09}Z", buf, ns % 1000000000);
}

// Everything about the bundle and the configuration that can be wrong,
// found before any state exists.
KeeperPlan plan_container(const Globals& g, const CreateArgs& a, bool detached) {
  check_container_id(a.id);
  // Normalized without a trailing slash: "." is reported as /path/to/bundle.
  std::filesystem::path bundle = std::filesystem::absolute(a.bundle).lexically_normal();
  if (!bundle.has_filename()) bundle = bundle.parent_path();
  if (!std::filesystem::is_directory(bundle)) fail("bundle {}: no such directory", bundle.string());
  KeeperPlan plan;
  plan.id = a.id;
  plan.spec = oci::load_spec(bundle);
  if (plan.spec.process->args.empty())
    fail("{}: process.args: must name the program to run", (bundle / "config.json").string());
  plan.bundle = bundle;
  plan.rootfs = plan.spec.root.path;
  if (plan.rootfs.is_relative()) plan.rootfs = (bundle / plan.rootfs).lexically_normal();
  if (!plan.rootfs.has_filename()) plan.rootfs = plan.rootfs.parent_path();
  if (!std::filesystem::is_directory(plan.rootfs))
    fail("rootfs {}: no such directory (root.path in {})", plan.rootfs.string(),
         (bundle / "config.json").string());
  bool terminal = plan.spec.process->terminal;
  if (terminal && detached && a.console_socket.empty())
    fail(
        "process.terminal is true but no --console-socket was given: a detached container "
        "needs somewhere to send its terminal");
  if (!a.console_socket.empty() && !terminal)
    fail("--console-socket given but process.terminal is false in {}",
         (bundle / "config.json").string());
  if (sandbox::network_request_of(plan.spec) == sandbox::NetworkRequest::Host)
    spdlog::warn(
        "container {}: the spec shares the host's network namespace, which a VM cannot: the "
        "container has a network of its own with loopback only",
        a.id);
  plan.config = sandbox::sandbox_config(g.config, plan.spec.annotations);
  sandbox::check_host_kvm();
  plan.state_root = g.root;
  plan.console_socket = a.console_socket;
  if (!a.pid_file.empty()) plan.pid_file = std::filesystem::absolute(a.pid_file).string();
  return plan;
}

// Creates the state directory and the keeper; returns the keeper's pid once
// the container exists in its VM.
pid_t create_container(const Globals& g, KeeperPlan plan) {
  ContainerRecord record;
  record.id = plan.id;
  record.bundle = plan.bundle;
  record.rootfs = plan.rootfs;
  record.oci_version = plan.spec.oci_version;
  record.created = now_rfc3339();
  record.annotations = plan.spec.annotations;
  record.status = Status::Creating;
  LockedContainer container = g.store().create(record);
  std::filesystem::path dir = container.dir();
  Worker keeper = start_worker([&](WorkerReport& report) {
    // The keeper's stderr is the container's: its own words go to a file.
    redirect_log_for_keeper(g, keeper_log(dir));
    return run_keeper(plan, std::move(container), record, report);
  });
  return keeper.pid;
}

}  // namespace

int cmd_create(const Globals& g, const CreateArgs& a) {
  KeeperPlan plan = plan_container(g, a, true);
  create_container(g, std::move(plan));
  return 0;
}

int cmd_run(const Globals& g, const CreateArgs& a) {
  KeeperPlan plan = plan_container(g, a, a.detach);
  plan.start = true;
  bool terminal = plan.spec.process->terminal;
  // Blocked before the keeper exists, so no signal sent in between is lost;
  // the keeper unblocks nothing: it reads the same set from its signalfd.
  SignalReader signals(forwarded_signals());
  std::optional<RawTerminal> raw;
  if (terminal && !a.detach && a.console_socket.empty()) raw.emplace(STDIN_FILENO);
  pid_t keeper = create_container(g, std::move(plan));
  if (a.detach) return 0;
  // Foreground: pass signals on to the keeper (which passes them on to the
  // container) until it exits with the container's status.
  UniqueFd exited(check_sys(static_cast<int>(::syscall(SYS_pidfd_open, keeper, 0)),
                            "pidfd_open for the sandbox keeper"));
  for (;;) {
    pollfd p[2] = {{signals.fd(), POLLIN, 0}, {exited.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 && errno != EINTR) throw_errno("poll");
    while (int sig = signals.read()) ::kill(keeper, sig);
    if (!p[1].revents) continue;
    int status = 0;
    while (::waitpid(keeper, &status, 0) < 0)
      if (errno != EINTR) throw_errno("wait for the sandbox keeper");
    // As runc run: the exited container is deleted unless --keep, so the id
    // is free for the next run; the container's status stays the answer.
    if (!a.keep) {
      try {
        cmd_delete(g, a.id, true);
      } catch (const Error& e) {
        spdlog::warn("container {}: not deleted after it exited: {}", a.id, e.what());
      }
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
  }
}

}  // namespace vmrt::cli
