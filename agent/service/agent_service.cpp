#include "agent/service/agent_service.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>

#include "agent/network/pod_network.h"
#include "agent/service/container_stats.h"
#include "agent/service/request_error.h"
#include "agent/service/request_parse.h"
#include "common/ttrpc/typed.h"

namespace vmrt::agent {
namespace {

// Minor revision of vmrt.agent.v1 this agent serves (HealthResponse).
// 2: CreateSandbox configures interfaces and routes. 3: it also sets the
// clock, reseeds the CRNG and renames a restored VM's NIC's MAC. 4:
// OnlineCpus. 5: ExecProcess's guest target (the debug console), allowed by
// CreateSandbox's debug_console. 6: SandboxStats.
constexpr uint32_t kApiVersion = 6;
// How often blocked calls check for cancellation, and the OOM watcher scans.
constexpr int kPollMs = 100;
// How long ReadOutput and OomEvents wait for something by default, at most.
constexpr uint32_t kDefaultWaitMs = 1000, kMaxWaitMs = 10000;

// When a call that waits gives up and answers: after `wait_ms` (nullopt: no
// limit of its own; 0: the default), and by half the time left before the
// caller's deadline, so that the answer reaches the caller while it still
// waits. An answer it has given up on would be lost output or stdin it
// sends again.
std::chrono::steady_clock::time_point wait_until(const ttrpc::Context& ctx,
                                                 std::optional<uint32_t> wait_ms) {
  auto now = std::chrono::steady_clock::now();
  auto until = std::chrono::steady_clock::time_point::max();
  if (wait_ms)
    until = now + std::chrono::milliseconds(*wait_ms == 0 ? kDefaultWaitMs
                                                          : std::min(*wait_ms, kMaxWaitMs));
  if (ctx.deadline) until = std::min(until, now + (*ctx.deadline - now) / 2);
  return until;
}

const char* state_name(Container::State s) {
  switch (s) {
    case Container::State::Created:
      return "created";
    case Container::State::Running:
      return "running";
    case Container::State::Paused:
      return "paused";
    case Container::State::Stopped:
      return "stopped";
  }
  return "unknown";
}

// FAILED_PRECONDITION unless `c` is in state `want`; call with its lock held.
void require_state(Container& c, Container::State want) {
  Container::State s = c.state();
  if (s != want)
    reject(Code::FailedPrecondition, "container {}: {}, not {}", c.id(), state_name(s),
           state_name(want));
}

}  // namespace

void AgentService::register_methods(ttrpc::Server& server) {
#define VMRT_AGENT_REGISTER(Name, ...)                                                            \
  ttrpc::add_typed_method<v1::Name##Request, v1::Name##Response>(                                 \
      server, kAgentService, #Name, [this](const ttrpc::Context& c, const v1::Name##Request& r) { \
        return handle(#Name, [&] { return Name(c, r); });                                         \
      });
  VMRT_AGENT_METHODS(VMRT_AGENT_REGISTER)
#undef VMRT_AGENT_REGISTER
}

AgentService::AgentService(AgentOptions options)
    : options_(std::move(options)), oom_thread_([this] { watch_oom(); }) {}

AgentService::~AgentService() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  oom_thread_.join();
  destroy_all();
}

const Sandbox& AgentService::sandbox() {
  std::lock_guard lock(mu_);
  if (!sandbox_) reject(Code::FailedPrecondition, "no sandbox: call CreateSandbox first");
  return *sandbox_;
}

std::shared_ptr<AgentService::Entry> AgentService::find(const std::string& id) {
  check_id("container_id", id);
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) reject(Code::NotFound, "container {}: not found", id);
  if (!it->second) reject(Code::FailedPrecondition, "container {}: being created", id);
  return it->second;
}

ProcessEntry& AgentService::process(Entry& e, const std::string& container_id,
                                    const std::string& exec_id) {
  if (exec_id.empty()) return *e.init;
  check_id("exec_id", exec_id);
  std::lock_guard lock(e.mu);
  auto it = e.execs.find(exec_id);
  if (it == e.execs.end())
    reject(Code::NotFound, "container {}: no process with exec_id {}", container_id, exec_id);
  return *it->second;  // entries stay until the container's Entry goes
}

std::optional<ExitStatus> AgentService::try_status(Entry& e, ProcessEntry& p) {
  std::lock_guard lock(e.mu);
  if (!p.status) p.status = p.process().try_wait();
  return p.status;
}

v1::HealthResponse AgentService::Health(const ttrpc::Context&, const v1::HealthRequest&) {
  v1::HealthResponse r;
  r.set_status(v1::HealthResponse::SERVING);
  r.set_agent_version(VMRT_VERSION);
  r.set_api_version(kApiVersion);
  std::lock_guard lock(mu_);
  r.set_sandbox_created(sandbox_ != nullptr);
  return r;
}

v1::CreateSandboxResponse AgentService::CreateSandbox(const ttrpc::Context&,
                                                      const v1::CreateSandboxRequest& req) {
  v1::CreateSandboxResponse r;
  std::lock_guard lock(mu_);
  if (sandbox_) reject(Code::AlreadyExists, "the sandbox exists already");
  sandbox_ = std::make_unique<Sandbox>(req, options_);
  oom_.reopen();
  r.set_shared_fs_path(sandbox_->shared_dir().string());
  spdlog::info("sandbox created (shared fs {})", sandbox_->shared_dir().string());
  return r;
}

v1::DestroySandboxResponse AgentService::DestroySandbox(const ttrpc::Context&,
                                                        const v1::DestroySandboxRequest&) {
  v1::DestroySandboxResponse r;
  sandbox();
  destroy_all();
  oom_.close();
  std::lock_guard lock(mu_);
  sandbox_.reset();
  spdlog::info("sandbox destroyed");
  return r;
}

v1::CreateContainerResponse AgentService::CreateContainer(const ttrpc::Context&,
                                                          const v1::CreateContainerRequest& req) {
  v1::CreateContainerResponse r;
  const std::string& id = req.container_id();
  check_id("container_id", id);
  ContainerOptions o;
  o.id = id;
  o.spec = parse_container_spec(req.oci_spec_json());
  network::join_pod_network(o.spec);
  o.rootfs = resolve_in_share(sandbox().shared_dir(), req.rootfs());
  if (!std::filesystem::is_directory(o.rootfs))
    reject(Code::InvalidArgument, "rootfs {}: no such directory", o.rootfs.string());
  o.bundle = o.rootfs.parent_path();
  o.spec.root.path = o.rootfs.string();
  if (req.stdio().terminal()) o.spec.process->terminal = true;
  o.stdio = StdioConfig::for_process(*o.spec.process);
  o.overlay_rootfs = req.overlay_rootfs();
  o.state_dir = options_.state_dir / "containers";
  o.cgroup_root = options_.cgroup_root;

  {
    std::lock_guard lock(mu_);
    if (!entries_.emplace(id, nullptr).second)
      reject(Code::AlreadyExists, "container {}: exists already", id);
  }
  auto e = std::make_shared<Entry>();
  try {
    e->container = Container::create(std::move(o));
    e->init = std::make_unique<ProcessEntry>(e->container->init(), req.stdio().open_stdin());
  } catch (...) {
    std::lock_guard lock(mu_);
    entries_.erase(id);
    throw;
  }
  r.set_pid(e->container->pid());
  std::lock_guard lock(mu_);
  entries_[id] = e;
  spdlog::info("container {} created, init pid {}", id, r.pid());
  return r;
}

v1::StartContainerResponse AgentService::StartContainer(const ttrpc::Context&,
                                                        const v1::StartContainerRequest& req) {
  v1::StartContainerResponse r;
  auto e = find(req.container_id());
  std::lock_guard lock(e->mu);
  require_state(*e->container, Container::State::Created);
  e->container->start();
  spdlog::info("container {} started", req.container_id());
  return r;
}

void AgentService::remove(const std::string& id, Entry& e) {
  {
    std::lock_guard lock(e.mu);
    e.removed = true;
    e.container->destroy();
    // Keep what the processes' waiters need: destroy() reaped them.
    if (!e.init->status) e.init->status = e.init->process().try_wait();
    for (auto& [exec_id, p] : e.execs) {
      // A debug console is in no container's cgroup: it goes with it here.
      if (!p->status) p->process().signal(SIGKILL);
      if (!p->status) p->status = p->process().try_wait();
    }
  }
  std::lock_guard lock(mu_);
  entries_.erase(id);
  spdlog::info("container {} removed", id);
}

v1::RemoveContainerResponse AgentService::RemoveContainer(const ttrpc::Context&,
                                                          const v1::RemoveContainerRequest& req) {
  v1::RemoveContainerResponse r;
  auto e = find(req.container_id());
  if (!req.force()) {
    std::lock_guard lock(e->mu);
    auto s = e->container->state();
    if (s == Container::State::Running || s == Container::State::Paused)
      reject(Code::FailedPrecondition, "container {}: {}; stop it or use force", req.container_id(),
             state_name(s));
  }
  remove(req.container_id(), *e);
  return r;
}

void AgentService::destroy_all() {
  std::map<std::string, std::shared_ptr<Entry>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, e] : entries_)
      if (e) all.emplace(id, e);
  }
  for (auto& [id, e] : all) {
    try {
      remove(id, *e);
    } catch (const std::exception& err) {
      spdlog::error("destroy container {}: {}", id, err.what());
    }
  }
}

v1::PauseContainerResponse AgentService::PauseContainer(const ttrpc::Context&,
                                                        const v1::PauseContainerRequest& req) {
  v1::PauseContainerResponse r;
  auto e = find(req.container_id());
  std::lock_guard lock(e->mu);
  require_state(*e->container, Container::State::Running);
  e->container->pause();
  return r;
}

v1::ResumeContainerResponse AgentService::ResumeContainer(const ttrpc::Context&,
                                                          const v1::ResumeContainerRequest& req) {
  v1::ResumeContainerResponse r;
  auto e = find(req.container_id());
  std::lock_guard lock(e->mu);
  require_state(*e->container, Container::State::Paused);
  e->container->resume();
  return r;
}

v1::UpdateContainerResponse AgentService::UpdateContainer(const ttrpc::Context&,
                                                          const v1::UpdateContainerRequest& req) {
  v1::UpdateContainerResponse r;
  auto e = find(req.container_id());
  oci::Resources resources = parse_resources(req.resources_json());
  std::lock_guard lock(e->mu);
  e->container->update(resources);
  return r;
}

v1::StatsContainerResponse AgentService::StatsContainer(const ttrpc::Context&,
                                                        const v1::StatsContainerRequest& req) {
  v1::StatsContainerResponse r;
  auto e = find(req.container_id());
  std::lock_guard lock(e->mu);
  copy_stats(e->container->stats(), r);
  return r;
}

v1::ListProcessesResponse AgentService::ListProcesses(const ttrpc::Context&,
                                                      const v1::ListProcessesRequest& req) {
  v1::ListProcessesResponse r;
  auto e = find(req.container_id());
  std::lock_guard lock(e->mu);
  for (pid_t pid : e->container->processes()) r.add_pids(pid);
  return r;
}

v1::ExecProcessResponse AgentService::ExecProcess(const ttrpc::Context&,
                                                  const v1::ExecProcessRequest& req) {
  v1::ExecProcessResponse r;
  // Refused first, whatever else the request says: only the host that
  // created the sandbox, from its operator's configuration, turns it on.
  if (req.guest() && !sandbox().debug_console())
    reject(Code::PermissionDenied,
           "the debug console is off in this sandbox: the host's configuration ([debug] "
           "console) did not allow it when the sandbox was created");
  auto e = find(req.container_id());
  check_id("exec_id", req.exec_id());
  oci::Process p = parse_exec_process(req.oci_process_json());
  if (req.stdio().terminal()) p.terminal = true;
  std::lock_guard lock(e->mu);
  if (e->execs.count(req.exec_id()))
    reject(Code::AlreadyExists, "container {}: exec_id {} exists already", req.container_id(),
           req.exec_id());
  std::unique_ptr<Process> proc;
  if (req.guest()) {
    // The default guest image has no shell; say so rather than ENOENT.
    const std::string& program = p.args.empty() ? std::string() : p.args[0];
    if (program.starts_with('/') && ::access(program.c_str(), X_OK) != 0)
      reject(Code::FailedPrecondition,
             "debug console: the guest image has no {} (the default image has no shell; the "
             "debug image, initramfs-debug.cpio.gz, has /bin/sh)",
             program);
    // Any state: a console is for a container that is stuck.
    proc = start_outside_containers(p, StdioConfig::for_process(p));
    spdlog::warn("container {}: debug console {} started as guest root, pid {}", req.container_id(),
                 req.exec_id(), proc->pid());
  } else {
    require_state(*e->container, Container::State::Running);
    proc = e->container->exec(p, StdioConfig::for_process(p));
  }
  auto entry = std::make_unique<ProcessEntry>(*proc, req.stdio().open_stdin());
  r.set_pid(proc->pid());
  e->exec_processes.emplace(req.exec_id(), std::move(proc));
  e->execs.emplace(req.exec_id(), std::move(entry));
  spdlog::info("container {}: exec {} pid {}", req.container_id(), req.exec_id(), r.pid());
  return r;
}

v1::SignalProcessResponse AgentService::SignalProcess(const ttrpc::Context&,
                                                      const v1::SignalProcessRequest& req) {
  v1::SignalProcessResponse r;
  auto e = find(req.container_id());
  int sig = check_signal(req.signal());
  if (req.all() && !req.exec_id().empty())
    reject(Code::InvalidArgument, "all: applies to the container, not to exec_id {}",
           req.exec_id());
  ProcessEntry& p = process(*e, req.container_id(), req.exec_id());
  std::lock_guard lock(e->mu);
  if (req.exec_id().empty())
    e->container->signal(sig, req.all());
  else
    p.process().signal(sig);
  return r;
}

v1::WaitProcessResponse AgentService::WaitProcess(const ttrpc::Context& ctx,
                                                  const v1::WaitProcessRequest& req) {
  auto e = find(req.container_id());
  ProcessEntry& p = process(*e, req.container_id(), req.exec_id());
  for (;;) {
    if (auto status = try_status(*e, p)) {
      // The kernel counts an OOM kill before the killed process dies: in
      // the log before the exit is answered, for the shim to pass on first
      // (the watcher's scan may not have come round yet).
      note_oom(req.container_id(), *e);
      return to_wait_response(*status);
    }
    // The caller went away (its connection ended) or gave up.
    if (ctx.stop.stop_requested()) reject(Code::Cancelled, "WaitProcess cancelled");
    if (ctx.expired()) reject(Code::DeadlineExceeded, "WaitProcess: the process still runs");
    // The pidfd turns readable at exit; the status may reach try_wait()
    // a moment later (the reaper's turn), hence the loop.
    pollfd pfd{p.pidfd(), POLLIN, 0};
    ::poll(&pfd, 1, kPollMs);
  }
}

v1::WriteStdinResponse AgentService::WriteStdin(const ttrpc::Context& ctx,
                                                const v1::WriteStdinRequest& req) {
  v1::WriteStdinResponse r;
  auto e = find(req.container_id());
  ProcessEntry& p = process(*e, req.container_id(), req.exec_id());
  r.set_written(p.write_stdin(req.data(), wait_until(ctx, std::nullopt), ctx.stop));
  return r;
}

v1::CloseStdinResponse AgentService::CloseStdin(const ttrpc::Context&,
                                                const v1::CloseStdinRequest& req) {
  v1::CloseStdinResponse r;
  auto e = find(req.container_id());
  process(*e, req.container_id(), req.exec_id()).close_stdin();
  return r;
}

v1::ReadOutputResponse AgentService::ReadOutput(const ttrpc::Context& ctx,
                                                const v1::ReadOutputRequest& req) {
  auto e = find(req.container_id());
  return process(*e, req.container_id(), req.exec_id())
      .read_output(req.stream(), wait_until(ctx, req.wait_ms()), ctx.stop);
}

v1::ResizeTerminalResponse AgentService::ResizeTerminal(const ttrpc::Context&,
                                                        const v1::ResizeTerminalRequest& req) {
  v1::ResizeTerminalResponse r;
  auto e = find(req.container_id());
  ProcessEntry& p = process(*e, req.container_id(), req.exec_id());
  if (!p.terminal())
    reject(Code::FailedPrecondition, "container {}: the process has no terminal",
           req.container_id());
  if (req.rows() == 0 || req.cols() == 0 || req.rows() > 0xffff || req.cols() > 0xffff)
    reject(Code::InvalidArgument, "terminal size {}x{}: rows and cols must be 1 to 65535",
           req.rows(), req.cols());
  std::lock_guard lock(e->mu);
  p.process().resize_terminal(req.rows(), req.cols());
  return r;
}

v1::OomEventsResponse AgentService::OomEvents(const ttrpc::Context& ctx,
                                              const v1::OomEventsRequest& req) {
  OomLog::Read read = oom_.read_after(req.after(), wait_until(ctx, req.wait_ms()), ctx.stop);
  v1::OomEventsResponse r;
  for (auto& id : read.container_ids) r.add_container_ids(std::move(id));
  r.set_last(read.last);
  r.set_closed(read.closed);
  return r;
}

// Compares every container's oom_kill count with the last one seen. A scan
// rather than a poll on the library's inotify descriptors: those belong to
// containers that RemoveContainer may destroy at any moment, while a scan
// takes each container's lock and skips removed ones.
void AgentService::watch_oom() {
  std::unique_lock lock(mu_);
  while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(kPollMs), [&] { return stopping_; })) {
    std::vector<std::pair<std::string, std::shared_ptr<Entry>>> all;
    for (auto& [id, e] : entries_)
      if (e) all.emplace_back(id, e);
    lock.unlock();
    for (auto& [id, e] : all) note_oom(id, *e);
    lock.lock();
  }
}

void AgentService::note_oom(const std::string& id, Entry& e) {
  {
    std::lock_guard el(e.mu);
    if (e.removed) return;
    uint64_t kills;
    try {
      kills = e.container->oom_kill_count();
    } catch (const std::exception& err) {
      return;  // the cgroup went away with the container's last process
    }
    if (kills <= e.oom_kills) return;
    e.oom_kills = kills;
  }
  spdlog::info("container {}: OOM kill", id);
  oom_.publish(id);
}

}  // namespace vmrt::agent
