#include "shim/task_service.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <regex>

#include "common/container_id.h"
#include "common/error.h"
#include "common/ttrpc/status.h"
#include "common/ttrpc/typed.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "sandbox/config.h"
#include "sandbox/io_relay.h"
#include "shim/metrics.h"
#include "shim/rootfs_mounts.h"
#include "shim/stdio_fifos.h"
#include "shim/vmm_pid_file.h"

namespace vmrt::shim {

using namespace std::chrono_literals;
namespace v1 = sandbox::v1;
namespace events = containerd::events;
using containerd::v1::types::Status;
using google::protobuf::Timestamp;
using ttrpc::Code;
using ttrpc::fail_status;

namespace {

// What a process that has not set up any handler dies of.
bool terminates_by_default(int sig) {
  switch (sig) {
    case SIGCHLD:
    case SIGCONT:
    case SIGURG:
    case SIGWINCH:
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
      return false;
    default:
      return true;
  }
}

// The exit status of a process whose program never ran (as a shell's for a
// command it cannot find).
constexpr uint32_t kNotStarted = 127;

// After a process exits, how long output from its descendants may still
// drain before the exit is reported anyway.
constexpr auto kOutputDrain = 5s;
constexpr const char* kVersion = "vmrt " VMRT_VERSION;

}  // namespace

// One process: a task's init (exec_id empty) or an exec'ed one.
struct ProcessRecord {
  std::string id, exec_id;
  StdioPaths stdio;
  std::string process_json;  // an exec's OCI process
  Status status = Status::CREATED;
  uint32_t exit_status = 0;
  Timestamp exited_at;
  HostStdio fds;  // before relay: the relay goes first
  std::unique_ptr<sandbox::IoRelay> relay;
  std::stop_source wait_call;  // ends the WaitProcess call
  std::thread waiter;

  ~ProcessRecord() {
    if (waiter.joinable()) {
      wait_call.request_stop();
      waiter.join();
    }
    relay.reset();
  }
};

struct TaskRecord {
  std::string id;
  std::filesystem::path bundle;
  RootfsMounts rootfs;
  std::vector<MountSpec> rootfs_specs;
  std::shared_ptr<ProcessRecord> init;
  std::map<std::string, std::shared_ptr<ProcessRecord>> execs;
  bool paused = false;
};

namespace {

std::string name_of(const ProcessRecord& p) {
  return p.exec_id.empty() ? "task " + p.id : "exec " + p.exec_id + " of task " + p.id;
}

}  // namespace

TaskService::TaskService(ShimArgs args, PodLocation where, EventPublisher& events)
    : args_(std::move(args)), where_(std::move(where)), events_(events) {}

TaskService::~TaskService() { stop(); }

bool TaskService::shutdown_requested() {
  std::lock_guard lock(mu_);
  return shutdown_;
}

void TaskService::stop() noexcept {
  std::map<std::string, std::unique_ptr<TaskRecord>> tasks;
  std::unique_ptr<sandbox::Sandbox> sb;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    tasks.swap(tasks_);
    sb = std::move(sandbox_);
    exited_.notify_all();
  }
  stop_oom_watch();
  // Processes first: their relays and waiters use the sandbox's agent.
  tasks.clear();
  if (end_sandbox(std::move(sb), pod_)) {
    std::lock_guard lock(mu_);
    mounts_left_ = true;
  }
  spdlog::info("pod {}: stopped", pod_);
}

bool TaskService::end_sandbox(std::unique_ptr<sandbox::Sandbox> sb,
                              const std::string& pod) noexcept {
  if (!sb) return false;
  try {
    sb->stop();
  } catch (const sandbox::MountsLeft& e) {
    spdlog::error("pod {}: {}", pod, e.what());
    return true;
  }
  return false;
}

bool TaskService::mounts_left() {
  std::lock_guard lock(mu_);
  return mounts_left_;
}

TaskRecord& TaskService::task_of(const std::string& id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) fail_status(Code::NotFound, "task {} not found", id);
  return *it->second;
}

std::shared_ptr<ProcessRecord> TaskService::process_of(const std::string& id,
                                                       const std::string& exec_id) {
  TaskRecord& t = task_of(id);
  if (exec_id.empty()) return t.init;
  auto it = t.execs.find(exec_id);
  if (it == t.execs.end()) fail_status(Code::NotFound, "exec {} of task {} not found", exec_id, id);
  return it->second;
}

// Every task of the pod reports the VMM as its process: the processes
// themselves live in the guest, and the VMM is what the host sees of them
// (what `ctr task ls` shows, what dies with them), as with Kata.
uint32_t TaskService::task_pid() const {
  return sandbox_ ? static_cast<uint32_t>(sandbox_->vmm_pid()) : 0;
}

task::StateResponse TaskService::state(const task::StateRequest& r) {
  std::lock_guard lock(mu_);
  TaskRecord& t = task_of(r.id());
  auto p = process_of(r.id(), r.exec_id());
  task::StateResponse s;
  s.set_id(r.id());
  s.set_exec_id(r.exec_id());
  s.set_bundle(t.bundle.string());
  s.set_pid(task_pid());
  s.set_status(p->status == Status::RUNNING && t.paused && r.exec_id().empty() ? Status::PAUSED
                                                                               : p->status);
  s.set_stdin(p->stdio.in);
  s.set_stdout(p->stdio.out);
  s.set_stderr(p->stdio.err);
  s.set_terminal(p->stdio.terminal);
  s.set_exit_status(p->exit_status);
  *s.mutable_exited_at() = p->exited_at;
  return s;
}

void TaskService::start_sandbox(const std::string& pod, const oci::Spec& spec,
                                sandbox::RuntimeConfig config) {
  std::filesystem::create_directories(where_.sandbox_dir());
  sandbox::SandboxOptions o;
  o.id = pod;
  o.config = config;
  o.dir = where_.sandbox_dir();
  o.hostname = spec.hostname.empty() ? pod : spec.hostname;
  // CRI's pod network namespace, which CNI configured: the VM's NIC takes
  // over its interface.
  o.network_namespace = sandbox::network_namespace_of(spec);
  sandbox_ = spawner_.run([&o] { return sandbox::Sandbox::start(std::move(o)); });
  pod_ = pod;
  record_vmm(where_.dir, sandbox_->vmm_pid());
  auto t = sandbox_->start_times();
  spdlog::info("pod {}: VM up: vmm ready {} ms, agent ready {} ms, sandbox ready {} ms", pod,
               t.vmm_ready.count(), t.agent_ready.count(), t.sandbox_ready.count());
  oom_thread_ = std::jthread(
      [this, agent = &sandbox_->agent()](std::stop_token stop) { watch_oom(*agent, stop); });
}

// CRI puts a pod's containers into the pod sandbox's namespaces by path:
// /proc/<sandbox task pid>/ns/<kind>, a host path of the VMM (the pid we
// report). Inside the VM the same namespaces are the pod sandbox init's.
void TaskService::adopt_pod_namespaces(oci::Spec& spec) const {
  static const std::map<std::string, std::string> kKernelName = {
      {"pid", "pid"}, {"network", "net"}, {"mount", "mnt"},    {"ipc", "ipc"},
      {"uts", "uts"}, {"user", "user"},   {"cgroup", "cgroup"}};
  static const std::regex kProcNs(R"(/proc/(\d+)/ns/[a-z_]+)");
  for (auto& ns : spec.linux.namespaces) {
    if (ns.path.empty()) continue;
    std::smatch m;
    // Compared as text: the digits may be more than any integer holds.
    if (!std::regex_match(ns.path, m, kProcNs) || m.str(1) != std::to_string(task_pid()) ||
        !pod_guest_pid_ || !kKernelName.count(ns.type))
      fail_status(Code::InvalidArgument,
                  "namespace {} at {}: a container in a VM can only join its pod's namespaces",
                  ns.type, ns.path);
    ns.path = fmt::format("/proc/{}/ns/{}", pod_guest_pid_, kKernelName.at(ns.type));
  }
}

task::CreateTaskResponse TaskService::create(const task::CreateTaskRequest& r) {
  check_container_id(r.id());
  std::lock_guard lock(mu_);
  if (stopped_) fail_status(Code::FailedPrecondition, "the shim is shutting down");
  if (tasks_.count(r.id())) fail_status(Code::AlreadyExists, "task {} exists already", r.id());
  if (!r.checkpoint().empty())
    fail_status(Code::Unimplemented, "task {}: restoring a checkpoint is not supported by vmrt",
                r.id());
  auto t = std::make_unique<TaskRecord>();
  t->id = r.id();
  t->bundle = r.bundle();
  oci::Spec spec = oci::load_spec(t->bundle);
  std::string pod = pod_of(r.id(), spec.annotations);
  bool first = !sandbox_;
  // The pod's VM settled first, its annotations allowed or refused, before
  // anything is mounted or created for it: a refused pod leaves nothing.
  std::optional<sandbox::RuntimeConfig> config;
  if (first) {
    if (pod != r.id())
      fail_status(Code::FailedPrecondition, "task {}: its pod {} has no sandbox in this shim",
                  r.id(), pod);
    const char* path = std::getenv("VMRT_CONFIG");
    config = sandbox::sandbox_config(path ? path : "", spec.annotations);
  }

  std::filesystem::path rootfs = t->bundle / "rootfs";
  for (const auto& m : r.rootfs())
    t->rootfs_specs.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
  if (!t->rootfs_specs.empty()) {
    t->rootfs = RootfsMounts(t->rootfs_specs, rootfs);
  } else {
    rootfs = spec.root.path;
    if (rootfs.is_relative()) rootfs = t->bundle / rootfs;
  }

  if (first) {
    // The pod's network namespace path stays in the spec: in the guest a
    // network namespace with a path is the agent's, where the NIC is.
    try {
      start_sandbox(pod, spec, std::move(*config));
    } catch (const sandbox::MountsLeft&) {
      mounts_left_ = true;  // the pod directory stays (serve_command)
      throw;
    }
  } else {
    if (pod != pod_)
      fail_status(Code::InvalidArgument, "task {} belongs to pod {}, this shim serves pod {}",
                  r.id(), pod, pod_);
    adopt_pod_namespaces(spec);
  }

  auto p = std::make_shared<ProcessRecord>();
  p->id = r.id();
  p->stdio = {r.stdin(), r.stdout(), r.stderr(), r.terminal()};
  try {
    p->fds = open_stdio(p->stdio, {r.id(), args_.namespace_});
    uint32_t guest_pid =
        sandbox_->create_container(r.id(), spec, rootfs, {r.terminal(), p->fds.in.valid()});
    if (r.id() == pod) pod_guest_pid_ = guest_pid;
  } catch (...) {
    // The pod's own task failed: no VM stays behind for it.
    if (first) {
      stop_oom_watch();
      if (end_sandbox(std::move(sandbox_), pod)) mounts_left_ = true;
    }
    throw;
  }
  t->init = p;

  events::TaskCreate e;
  e.set_container_id(r.id());
  e.set_bundle(r.bundle());
  for (const auto& m : r.rootfs()) *e.add_rootfs() = m;
  e.mutable_io()->set_stdin(r.stdin());
  e.mutable_io()->set_stdout(r.stdout());
  e.mutable_io()->set_stderr(r.stderr());
  e.mutable_io()->set_terminal(r.terminal());
  e.set_pid(task_pid());
  events_.publish("/tasks/create", e);

  tasks_.emplace(r.id(), std::move(t));
  task::CreateTaskResponse resp;
  resp.set_pid(task_pid());
  return resp;
}

task::StartResponse TaskService::start(const task::StartRequest& r) {
  check_container_id(r.id());
  std::lock_guard lock(mu_);
  auto p = process_of(r.id(), r.exec_id());
  if (p->status != Status::CREATED)
    fail_status(Code::FailedPrecondition, "{} {} has been started already",
                r.exec_id().empty() ? "task" : "exec", r.exec_id().empty() ? r.id() : r.exec_id());
  try {
    if (r.exec_id().empty()) {
      v1::StartContainerRequest req;
      req.set_container_id(r.id());
      sandbox_->agent().call<v1::StartContainerResponse>("StartContainer", req);
    } else {
      v1::ExecProcessRequest req;
      req.set_container_id(r.id());
      req.set_exec_id(r.exec_id());
      req.set_oci_process_json(p->process_json);
      req.mutable_stdio()->set_terminal(p->stdio.terminal);
      req.mutable_stdio()->set_open_stdin(p->fds.in.valid());
      sandbox_->agent().call<v1::ExecProcessResponse>("ExecProcess", req);
    }
  } catch (...) {
    // The agent has ended it (a missing program, say): it never ran, and
    // exits as a shell's "command not found" does, so that waiters return
    // and containerd's FIFO copiers see end of file (ctr run of a missing
    // program hung in Delete and Wait without this).
    end_unstarted(*p, kNotStarted);
    throw;
  }
  p->status = Status::RUNNING;
  watch(p);
  if (r.exec_id().empty()) {
    events::TaskStart e;
    e.set_container_id(r.id());
    e.set_pid(task_pid());
    events_.publish("/tasks/start", e);
  } else {
    events::TaskExecStarted e;
    e.set_container_id(r.id());
    e.set_exec_id(r.exec_id());
    e.set_pid(task_pid());
    events_.publish("/tasks/exec-started", e);
  }
  task::StartResponse resp;
  resp.set_pid(task_pid());
  return resp;
}

void TaskService::watch(const std::shared_ptr<ProcessRecord>& p) {
  p->relay =
      std::make_unique<sandbox::IoRelay>(sandbox_->agent(), p->id, p->exec_id, p->fds.relay_fds());
  ProcessRecord* raw = p.get();  // the record joins this thread before it goes
  sandbox::AgentClient* agent = &sandbox_->agent();
  raw->waiter = std::thread([this, raw, agent] {
    v1::WaitProcessRequest req;
    req.set_container_id(raw->id);
    req.set_exec_id(raw->exec_id);
    v1::WaitProcessResponse resp;
    std::optional<std::string> lost;  // why the wait failed
    try {
      resp = agent->call<v1::WaitProcessResponse>("WaitProcess", req, sandbox::kNoDeadline,
                                                  raw->wait_call.get_token());
    } catch (const sandbox::AgentError& e) {
      if (e.code() == Code::Cancelled) return;  // the record is going away
      lost = e.what();
    }
    uint32_t status = sandbox::kVmLostStatus;
    if (!lost) {
      status = static_cast<uint32_t>(resp.status());
      if (raw->relay->wait_outputs(kOutputDrain)) {
        // containerd's readers see end of file once the output is all there.
        raw->fds.out.reset();
        raw->fds.err.reset();
      } else {
        spdlog::warn("{} {}: output still open {} s after exit", raw->id, raw->exec_id,
                     kOutputDrain.count());
      }
    } else {
      spdlog::error("{}: lost the process: {}", name_of(*raw), *lost);
      // A VMM that died closes its socket a moment before it can be reaped:
      // wait for that, so that the log says why.
      for (int i = 0; i < 20; ++i) {
        {
          std::lock_guard lock(mu_);
          if (!sandbox_ || sandbox_->vmm_exited()) break;
        }
        std::this_thread::sleep_for(100ms);
      }
    }
    on_exit(raw, status);
  });
}

events::TaskExit TaskService::mark_exited(ProcessRecord& p, uint32_t status) {
  p.status = Status::STOPPED;
  p.exit_status = status;
  p.exited_at = timestamp_now();
  exited_.notify_all();
  events::TaskExit e;
  e.set_container_id(p.id);
  e.set_id(p.exec_id.empty() ? p.id : p.exec_id);
  e.set_pid(task_pid());
  e.set_exit_status(status);
  *e.mutable_exited_at() = p.exited_at;
  return e;
}

events::TaskExit TaskService::end_unstarted(ProcessRecord& p, uint32_t status) {
  p.fds = {};
  return mark_exited(p, status);
}

void TaskService::on_exit(ProcessRecord* p, uint32_t status) {
  events::TaskExit e;
  {
    std::lock_guard lock(mu_);
    if (p->status == Status::STOPPED) return;
    e = mark_exited(*p, status);
    if (status == uint32_t{sandbox::kVmLostStatus} && sandbox_) {
      if (auto vmm = sandbox_->vmm_exited())
        spdlog::error("pod {}: vmrt-vmm {}{}", pod_, vmm->to_string(), sandbox_->last_words());
    }
  }
  events_.publish("/tasks/exit", e);
}

task::DeleteResponse TaskService::remove(const task::DeleteRequest& r) {
  check_container_id(r.id());
  std::unique_ptr<TaskRecord> gone_task;
  std::shared_ptr<ProcessRecord> gone_exec;
  task::DeleteResponse resp;
  bool pod_ended = false;
  {
    std::lock_guard lock(mu_);
    TaskRecord& t = task_of(r.id());
    auto p = process_of(r.id(), r.exec_id());
    if (p->status == Status::RUNNING)
      fail_status(Code::FailedPrecondition, "{} {} is running: kill it first",
                  r.exec_id().empty() ? "task" : "exec",
                  r.exec_id().empty() ? r.id() : r.exec_id());
    // Never started: deleting it kills it where it waits.
    if (p->status == Status::CREATED) mark_exited(*p, r.exec_id().empty() ? 128 + SIGKILL : 0);
    resp.set_pid(task_pid());
    resp.set_exit_status(p->exit_status);
    *resp.mutable_exited_at() = p->exited_at;
    if (!r.exec_id().empty()) {
      gone_exec = std::move(t.execs.at(r.exec_id()));
      t.execs.erase(r.exec_id());
    } else {
      try {
        if (sandbox_ && !sandbox_->vmm_exited()) sandbox_->remove_container(r.id(), true);
      } catch (const std::exception& e) {
        spdlog::warn("task {}: removing it from the guest: {}", r.id(), e.what());
      }
      events::TaskDelete e;
      e.set_container_id(r.id());
      e.set_pid(resp.pid());
      e.set_exit_status(resp.exit_status());
      *e.mutable_exited_at() = resp.exited_at();
      events_.publish("/tasks/delete", e);
      gone_task = std::move(tasks_.at(r.id()));
      tasks_.erase(r.id());
      pod_ended = tasks_.empty();
    }
  }
  // Outside the lock: a record joins its waiter, which may want the lock.
  gone_exec.reset();
  gone_task.reset();
  // The pod's last task is gone: so is its VM, before the answer, as a
  // runc task's processes are gone once it is deleted (containerd's
  // Shutdown, which ends the shim, does not wait for the shim to exit).
  if (pod_ended) stop();
  return resp;
}

task::PidsResponse TaskService::pids(const task::PidsRequest& r) {
  std::lock_guard lock(mu_);
  task_of(r.id());
  v1::ListProcessesRequest req;
  req.set_container_id(r.id());
  auto l = sandbox_->agent().call<v1::ListProcessesResponse>("ListProcesses", req);
  task::PidsResponse resp;
  for (uint32_t pid : l.pids()) resp.add_processes()->set_pid(pid);
  return resp;
}

Empty TaskService::pause(const task::PauseRequest& r) {
  std::lock_guard lock(mu_);
  TaskRecord& t = task_of(r.id());
  v1::PauseContainerRequest req;
  req.set_container_id(r.id());
  sandbox_->agent().call<v1::PauseContainerResponse>("PauseContainer", req);
  t.paused = true;
  events::TaskPaused e;
  e.set_container_id(r.id());
  events_.publish("/tasks/paused", e);
  return {};
}

Empty TaskService::resume(const task::ResumeRequest& r) {
  std::lock_guard lock(mu_);
  TaskRecord& t = task_of(r.id());
  v1::ResumeContainerRequest req;
  req.set_container_id(r.id());
  sandbox_->agent().call<v1::ResumeContainerResponse>("ResumeContainer", req);
  t.paused = false;
  events::TaskResumed e;
  e.set_container_id(r.id());
  events_.publish("/tasks/resumed", e);
  return {};
}

Empty TaskService::kill(const task::KillRequest& r) {
  std::lock_guard lock(mu_);
  auto p = process_of(r.id(), r.exec_id());
  if (p->status == Status::STOPPED)
    fail_status(Code::NotFound, "process {} of task {} already finished",
                r.exec_id().empty() ? "init" : r.exec_id(), r.id());
  if (p->status == Status::CREATED && !r.exec_id().empty())
    fail_status(Code::FailedPrecondition, "exec {} of task {} has not been started", r.exec_id(),
                r.id());
  if (r.signal() < 1 || r.signal() > 64)
    fail_status(Code::InvalidArgument, "signal {} is not a signal number (1-64)", r.signal());
  v1::SignalProcessRequest req;
  req.set_container_id(r.id());
  req.set_exec_id(r.exec_id());
  req.set_signal(r.signal());
  req.set_all(r.all());
  sandbox_->agent().call<v1::SignalProcessResponse>("SignalProcess", req);
  // A created init waits for start with default dispositions: a signal that
  // terminates by default ends it, and nobody watches it yet but us (as
  // with runc, whose waiting init dies the same way).
  if (p->status == Status::CREATED && terminates_by_default(r.signal())) {
    events_.publish("/tasks/exit", end_unstarted(*p, 128 + r.signal()));
  }
  return {};
}

Empty TaskService::exec(const task::ExecProcessRequest& r) {
  std::lock_guard lock(mu_);
  TaskRecord& t = task_of(r.id());
  if (t.init->status == Status::STOPPED)
    fail_status(Code::FailedPrecondition, "task {} is not running", r.id());
  if (t.execs.count(r.exec_id()))
    fail_status(Code::AlreadyExists, "exec {} of task {} exists already", r.exec_id(), r.id());
  auto p = std::make_shared<ProcessRecord>();
  p->id = r.id();
  p->exec_id = r.exec_id();
  p->stdio = {r.stdin(), r.stdout(), r.stderr(), r.terminal()};
  // containerd sends the OCI process as JSON (typeurl's encoding of Go
  // structs), which is what the agent takes.
  p->process_json = r.spec().value();
  p->fds = open_stdio(p->stdio, {r.exec_id(), args_.namespace_});
  t.execs.emplace(r.exec_id(), p);
  events::TaskExecAdded e;
  e.set_container_id(r.id());
  e.set_exec_id(r.exec_id());
  events_.publish("/tasks/exec-added", e);
  return {};
}

Empty TaskService::resize_pty(const task::ResizePtyRequest& r) {
  std::lock_guard lock(mu_);
  process_of(r.id(), r.exec_id());
  v1::ResizeTerminalRequest req;
  req.set_container_id(r.id());
  req.set_exec_id(r.exec_id());
  req.set_rows(r.height());
  req.set_cols(r.width());
  sandbox_->agent().call<v1::ResizeTerminalResponse>("ResizeTerminal", req);
  return {};
}

Empty TaskService::close_io(const task::CloseIORequest& r) {
  std::lock_guard lock(mu_);
  auto p = process_of(r.id(), r.exec_id());
  if (r.stdin()) close_stdin_fifo(p->stdio.in);
  return {};
}

Empty TaskService::update(const task::UpdateTaskRequest& r) {
  std::lock_guard lock(mu_);
  task_of(r.id());
  // containerd sends the OCI LinuxResources as JSON, which the agent takes.
  if (!r.resources().type_url().ends_with("LinuxResources"))
    fail_status(Code::InvalidArgument, "task {}: update takes OCI LinuxResources, not {}", r.id(),
                r.resources().type_url());
  v1::UpdateContainerRequest req;
  req.set_container_id(r.id());
  req.set_resources_json(r.resources().value());
  sandbox_->agent().call<v1::UpdateContainerResponse>("UpdateContainer", req);
  return {};
}

task::WaitResponse TaskService::wait(const ttrpc::Context& ctx, const task::WaitRequest& r) {
  std::unique_lock lock(mu_);
  auto p = process_of(r.id(), r.exec_id());
  exited_.wait(lock, ctx.stop, [&] { return p->status == Status::STOPPED || stopped_; });
  if (p->status != Status::STOPPED)
    fail_status(Code::Unavailable, "the shim is shutting down before {} exited", r.id());
  task::WaitResponse resp;
  resp.set_exit_status(p->exit_status);
  *resp.mutable_exited_at() = p->exited_at;
  return resp;
}

task::StatsResponse TaskService::stats(const task::StatsRequest& r) {
  std::lock_guard lock(mu_);
  task_of(r.id());
  v1::StatsContainerRequest req;
  req.set_container_id(r.id());
  auto s = sandbox_->agent().call<v1::StatsContainerResponse>("StatsContainer", req);
  task::StatsResponse resp;
  auto m = to_metrics(s);
  resp.mutable_stats()->set_type_url(type_url_of(m));
  resp.mutable_stats()->set_value(m.SerializeAsString());
  return resp;
}

task::ConnectResponse TaskService::connect(const task::ConnectRequest&) {
  std::lock_guard lock(mu_);
  task::ConnectResponse resp;
  resp.set_shim_pid(static_cast<uint32_t>(::getpid()));
  resp.set_task_pid(task_pid());
  resp.set_version(kVersion);
  return resp;
}

Empty TaskService::shutdown(const task::ShutdownRequest& r) {
  std::lock_guard lock(mu_);
  // containerd asks after every task's delete; the pod's shim stays while
  // the pod has tasks.
  if (tasks_.empty() || r.now()) shutdown_ = true;
  return {};
}

void TaskService::watch_oom(sandbox::AgentClient& agent, std::stop_token stop) {
  v1::OomEventsRequest req;
  req.set_wait_ms(1000);
  while (!stop.stop_requested()) {
    v1::OomEventsResponse r;
    try {
      r = agent.call<v1::OomEventsResponse>("OomEvents", req, 30s, stop);
    } catch (const sandbox::AgentError& e) {
      if (!stop.stop_requested()) spdlog::debug("OOM events: {}", e.what());
      return;
    }
    if (r.last() > req.after() &&
        r.last() - req.after() > static_cast<uint64_t>(r.container_ids_size()))
      spdlog::warn("OOM events: missed {}", r.last() - req.after() - r.container_ids_size());
    for (const auto& id : r.container_ids()) {
      events::TaskOOM e;
      e.set_container_id(id);
      events_.publish("/tasks/oom", e);
    }
    req.set_after(r.last());
    if (r.closed()) return;
  }
}

// Takes no lock: the watcher never does either.
void TaskService::stop_oom_watch() {
  if (oom_thread_.joinable()) {
    oom_thread_.request_stop();
    oom_thread_.join();
  }
}

namespace {

// The agent's failures keep their status code.
template <typename Fn>
auto with_agent_codes(Fn fn) {
  try {
    return fn();
  } catch (const sandbox::AgentError& e) {
    throw ttrpc::StatusError(e.code(), e.what());
  }
}

// A request in the log: lite messages have no text form, so the ids name
// the task and process it was for and the size stands for the rest.
template <typename Req>
std::string describe(const Req& r) {
  std::string s;
  if constexpr (requires { r.id(); }) s += fmt::format("id={} ", r.id());
  if constexpr (requires { r.exec_id(); })
    if (!r.exec_id().empty()) s += fmt::format("exec_id={} ", r.exec_id());
  return s + fmt::format("({} bytes)", r.ByteSizeLong());
}

// Every call in containerd's log (with -debug), and why one failed: what
// containerd does next (a Delete after a failed Start) is read from there.
template <typename Req, typename Fn>
auto logged(const char* method, const Req& r, Fn fn) {
  spdlog::debug("{} {}", method, describe(r));
  try {
    return with_agent_codes(fn);
  } catch (const std::exception& e) {
    spdlog::info("{} failed: {}", method, e.what());
    throw;
  }
}

}  // namespace

void TaskService::register_methods(ttrpc::Server& server) {
  const std::string svc = "containerd.task.v2.Task";
#define VMRT_TASK_METHOD(Name, Req, Resp, member)                                         \
  ttrpc::add_typed_method<Req, Resp>(server, svc, Name,                                   \
                                     [this](const ttrpc::Context&, const Req& r) {        \
                                       return logged(Name, r, [&] { return member(r); }); \
                                     })
  VMRT_TASK_METHOD("State", task::StateRequest, task::StateResponse, state);
  VMRT_TASK_METHOD("Create", task::CreateTaskRequest, task::CreateTaskResponse, create);
  VMRT_TASK_METHOD("Start", task::StartRequest, task::StartResponse, start);
  VMRT_TASK_METHOD("Delete", task::DeleteRequest, task::DeleteResponse, remove);
  VMRT_TASK_METHOD("Pids", task::PidsRequest, task::PidsResponse, pids);
  VMRT_TASK_METHOD("Pause", task::PauseRequest, Empty, pause);
  VMRT_TASK_METHOD("Resume", task::ResumeRequest, Empty, resume);
  VMRT_TASK_METHOD("Kill", task::KillRequest, Empty, kill);
  VMRT_TASK_METHOD("Exec", task::ExecProcessRequest, Empty, exec);
  VMRT_TASK_METHOD("ResizePty", task::ResizePtyRequest, Empty, resize_pty);
  VMRT_TASK_METHOD("CloseIO", task::CloseIORequest, Empty, close_io);
  VMRT_TASK_METHOD("Update", task::UpdateTaskRequest, Empty, update);
  VMRT_TASK_METHOD("Stats", task::StatsRequest, task::StatsResponse, stats);
  VMRT_TASK_METHOD("Connect", task::ConnectRequest, task::ConnectResponse, connect);
  VMRT_TASK_METHOD("Shutdown", task::ShutdownRequest, Empty, shutdown);
#undef VMRT_TASK_METHOD
  ttrpc::add_typed_method<task::WaitRequest, task::WaitResponse>(
      server, svc, "Wait", [this](const ttrpc::Context& ctx, const task::WaitRequest& r) {
        return logged("Wait", r, [&] { return wait(ctx, r); });
      });
  ttrpc::add_typed_method<task::CheckpointTaskRequest, Empty>(
      server, svc, "Checkpoint", [](const ttrpc::Context&, const task::CheckpointTaskRequest& r) {
        fail_status(Code::Unimplemented,
                    "task {}: checkpoint is not supported by vmrt (the VM's state is not saved)",
                    r.id());
        return Empty{};
      });
}

}  // namespace vmrt::shim
