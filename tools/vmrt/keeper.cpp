#include "tools/vmrt/keeper.h"

#include <fcntl.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "common/error.h"
#include "sandbox/io_relay.h"
#include "sandbox/sandbox.h"
#include "tools/vmrt/forwarded_signals.h"
#include "tools/vmrt/hooks.h"
#include "tools/vmrt/pid_file.h"
#include "tools/vmrt/process_watch.h"
#include "tools/vmrt/terminal.h"

namespace vmrt::cli {
namespace {

using namespace std::chrono_literals;

void record_exit(const KeeperPlan& plan, int status, const std::string& error) {
  try {
    LockedContainer c = StateStore(plan.state_root).lock(plan.id);
    ContainerRecord r = c.read();
    r.status = Status::Stopped;
    r.exit_status = status;
    r.error = error;
    c.write(r);
  } catch (const Error& e) {
    // Deleted meanwhile (delete --force): nothing left to record in.
    spdlog::info("container {}: exit status not recorded: {}", plan.id, e.what());
  }
}

// Stops the sandbox, if any. Returns its error (a mount it could not
// remove: the state directory around it must stay), "" when there was none.
std::string stop_sandbox(std::unique_ptr<sandbox::Sandbox>& sb) {
  std::string left;
  try {
    if (sb) sb->stop();
  } catch (const sandbox::MountsLeft& e) {
    left = e.what();
  }
  sb.reset();
  return left;
}

// After `failure` in create or start: the sandbox goes, and the state
// directory with it unless a mount stayed in it (then `vmrt delete` removes
// it once this keeper, whose mount namespace holds the mount, is gone).
// Returns the error to report.
std::string abandon(const KeeperPlan& plan, std::unique_ptr<sandbox::Sandbox>& sb,
                    LockedContainer container, const std::exception& failure) {
  std::string error = failure.what();
  bool mounts_left = dynamic_cast<const sandbox::MountsLeft*>(&failure) != nullptr;
  if (std::string left = stop_sandbox(sb); !left.empty()) {
    error += "; " + left;
    mounts_left = true;
  }
  if (mounts_left) return error;
  try {
    std::move(container).remove();
  } catch (const std::exception& rm) {
    spdlog::error("container {}: {}", plan.id, rm.what());
  }
  return error;
}

}  // namespace

std::filesystem::path keeper_log(const std::filesystem::path& container_dir) {
  return container_dir / "keeper.log";
}

int run_keeper(const KeeperPlan& plan, LockedContainer container, ContainerRecord record,
               WorkerReport& report) {
  ::signal(SIGPIPE, SIG_IGN);
  // Before any thread exists: unshare and the signal mask need that.
  sandbox::enter_private_mount_namespace();
  // The container's own network namespace is the keeper's: the pid in the
  // state is the keeper's, so a client that configures the namespace of
  // that pid (Docker's prestart hook, a CNI plugin) wires this one, whose
  // interface the VM then takes over.
  bool own_network = sandbox::network_request_of(plan.spec) == sandbox::NetworkRequest::Own;
  if (own_network)
    check_sys(::unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET) for the container's network");
  SignalReader signals(forwarded_signals());

  std::unique_ptr<sandbox::Sandbox> sb;
  std::optional<Pty> pty;
  sandbox::RelayFds fds{STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
  bool terminal = plan.spec.process->terminal;
  auto t0 = std::chrono::steady_clock::now();
  auto ms = [&t0] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t0)
        .count();
  };
  long spawned = 0, created = 0, started = 0;
  try {
    // As runc runs them, prestart then createRuntime, with the status
    // "creating"; before the VM boots, so that the network they configure
    // is there for it to take over.
    record.keeper = ProcessId::of(::getpid());
    warn_unsupported_hooks(plan.spec);
    auto state = oci_state_json(record);
    run_hooks(plan.spec.hooks.prestart, "prestart", state, HookFailure::Fail);
    run_hooks(plan.spec.hooks.create_runtime, "createRuntime", state, HookFailure::Fail);

    sandbox::SandboxOptions o;
    o.id = plan.id;
    o.config = plan.config;
    o.dir = container.dir();
    o.hostname = plan.spec.hostname.empty() ? plan.id : plan.spec.hostname;
    // As runc joins a network namespace given by path, the VM takes over
    // its interface; of its own namespace too.
    o.network_namespace = own_network
                              ? std::filesystem::path(fmt::format("/proc/{}/ns/net", ::getpid()))
                              : sandbox::network_namespace_of(plan.spec);
    // As runc makes the container's cgroup there: the VM goes in it.
    o.pod_cgroup = plan.spec.linux.cgroups_path;
    // The container's limits: the VM is sized for them from the start.
    sandbox::Demand limits = sandbox::demand_of(plan.spec);
    o.demand = limits;
    spawned = ms();
    sb = sandbox::Sandbox::start(std::move(o));
    // The keeper is the pid clients are given: its cgroup is the one they
    // read the container's use from.
    sb->join_cgroup();
    if (!plan.console_socket.empty()) {
      pty = Pty::for_console_socket(plan.console_socket);
      fds = {pty->slave.get(), pty->slave.get(), -1};
      detach_stdio();
    }
    if (terminal) fds.err = -1;  // a terminal has no separate stderr
    record.init_pid = sb->create_container(plan.id, plan.spec, plan.rootfs, {terminal, true});
    record.keeper = ProcessId::of(::getpid());
    record.vmm = ProcessId::of(sb->vmm_pid());
    record.vm_socket = sb->paths().vm_socket();
    record.console_log = sb->paths().console_log();
    record.from_template = sb->start_times().from_template;
    record.limit_memory_bytes = limits.memory_bytes;
    record.limit_millicpus = limits.millicpus;
    record.status = Status::Created;
    created = ms();
    if (!plan.pid_file.empty()) write_pid_file(plan.pid_file, ::getpid());
    container.write(record);
  } catch (const std::exception& e) {
    spdlog::error("container {}: create: {}", plan.id, e.what());
    report.fail(abandon(plan, sb, std::move(container), e));
    return 1;
  }

  if (plan.start) {
    try {
      sandbox::ContainerCalls(sb->agent()).start(plan.id);
      record.status = Status::Running;
      container.write(record);
      started = ms();
      run_hooks(plan.spec.hooks.poststart, "poststart", oci_state_json(record), HookFailure::Warn);
    } catch (const std::exception& e) {
      report.fail(abandon(plan, sb, std::move(container), e));
      return 1;
    }
  }
  { LockedContainer released = std::move(container); }
  report.ok();

  sandbox::ProcessEnd outcome =
      watch_process(sb->agent(), plan.id, "", fds, terminal, pty ? pty->slave.get() : STDIN_FILENO,
                    signals, [&] { return sb->vm_gone(); });
  long exited = ms();
  sandbox::StartTimes boot = sb->start_times();
  // The VM goes first, then the record: once `state` says stopped, nothing
  // of the sandbox runs any more.
  if (std::string left = stop_sandbox(sb); !left.empty())
    outcome.error += (outcome.error.empty() ? "" : "; ") + left;
  // One line for tools/bench/cli_run.sh: where a container's life went.
  spdlog::info(
      "container {}: timing ms: keeper {} vmm_ready {} agent_ready {} sandbox_ready {} created {} "
      "started {} exited {} vm_stopped {}",
      plan.id, spawned, spawned + boot.vmm_ready.count(), spawned + boot.agent_ready.count(),
      spawned + boot.sandbox_ready.count(), created, started, exited, ms());
  record_exit(plan, outcome.status, outcome.error);
  if (!outcome.error.empty()) spdlog::error("container {}: {}", plan.id, outcome.error);
  spdlog::info("container {}: exit status {}", plan.id, outcome.status);
  return outcome.status & 0xff;
}

}  // namespace vmrt::cli
