#include "shim/pod_tasks.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include "common/container_id.h"
#include "common/error.h"
#include "common/ttrpc/status.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "sandbox/sandbox.h"
#include "shim/stdio_fifos.h"
#include "shim/task_records.h"

namespace vmrt::shim {

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
// How long a Kill that found the VM gone waits for the process's watch to
// end it with the VM's cause (the watch polls the VM more often).
constexpr auto kVmEndGrace = std::chrono::seconds(2);

}  // namespace

PodTasks::PodTasks(std::string ns, EventSink& events, PodVmFactory boot)
    : ns_(std::move(ns)), events_(events), boot_(std::move(boot)) {}

PodTasks::~PodTasks() { stop(); }

bool PodTasks::shutdown_requested() {
  std::lock_guard lock(mu_);
  return shutdown_;
}

void PodTasks::shutdown(bool now) {
  std::lock_guard lock(mu_);
  // containerd asks after every task's delete; the pod's shim stays while
  // the pod has tasks.
  if (tasks_.empty() || now) shutdown_ = true;
}

void PodTasks::stop() noexcept {
  std::map<std::string, std::unique_ptr<TaskRecord>> tasks;
  std::shared_ptr<PodVm> vm;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    tasks.swap(tasks_);
    vm = std::move(vm_);
    changed_.notify_all();
  }
  // Processes first: their followers use the VM. Outside the lock: a
  // follower's end callback takes it.
  tasks.clear();
  if (end_vm(std::move(vm))) {
    std::lock_guard lock(mu_);
    mounts_left_ = true;
  }
  spdlog::info("pod {}: stopped", pod_);
}

bool PodTasks::end_vm(std::shared_ptr<PodVm> vm) noexcept {
  if (!vm) return false;
  try {
    vm->stop();
  } catch (const sandbox::MountsLeft& e) {
    spdlog::error("pod {}: {}", pod_, e.what());
    return true;
  } catch (const std::exception& e) {
    spdlog::error("pod {}: stopping the VM: {}", pod_, e.what());
  }
  return false;
}

bool PodTasks::mounts_left() {
  std::lock_guard lock(mu_);
  return mounts_left_;
}

TaskRecord& PodTasks::task_of(const std::string& id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) fail_status(Code::NotFound, "task {} not found", id);
  return *it->second;
}

std::shared_ptr<ProcessRecord> PodTasks::process_of(const std::string& id,
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
uint32_t PodTasks::task_pid_locked() const {
  return vm_ ? static_cast<uint32_t>(vm_->vmm_pid()) : 0;
}

uint32_t PodTasks::task_pid() {
  std::lock_guard lock(mu_);
  return task_pid_locked();
}

std::shared_ptr<PodVm> PodTasks::vm_locked(const std::string& id) {
  if (!vm_) fail_status(Code::FailedPrecondition, "task {}: the pod's VM is not running", id);
  return vm_;
}

std::shared_ptr<PodVm> PodTasks::vm_for(const std::string& id) {
  std::lock_guard lock(mu_);
  task_of(id);
  return vm_locked(id);
}

task::StateResponse PodTasks::state(const task::StateRequest& r) {
  std::lock_guard lock(mu_);
  TaskRecord& t = task_of(r.id());
  auto p = process_of(r.id(), r.exec_id());
  task::StateResponse s;
  s.set_id(r.id());
  s.set_exec_id(r.exec_id());
  s.set_bundle(t.bundle.string());
  s.set_pid(task_pid_locked());
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

task::StartResponse PodTasks::start(const task::StartRequest& r) {
  check_container_id(r.id());
  std::shared_ptr<PodVm> vm;  // before p: the record's watch goes first
  std::shared_ptr<ProcessRecord> p;
  {
    std::lock_guard lock(mu_);
    p = process_of(r.id(), r.exec_id());
    if (p->status != Status::CREATED || p->starting)
      fail_status(Code::FailedPrecondition, "{} {} has been started already",
                  r.exec_id().empty() ? "task" : "exec",
                  r.exec_id().empty() ? r.id() : r.exec_id());
    vm = vm_locked(r.id());
    p->starting = true;
  }
  try {
    if (r.exec_id().empty())
      vm->start(r.id());
    else
      vm->exec({r.id(), r.exec_id()}, p->process_json, {p->stdio.terminal, p->fds.in.valid()});
  } catch (...) {
    // The agent has ended it (a missing program, say): it never ran, and
    // exits as a shell's "command not found" does, so that waiters return
    // and containerd's FIFO copiers see end of file (ctr run of a missing
    // program hung in Delete and Wait without this).
    std::lock_guard lock(mu_);
    p->starting = false;
    changed_.notify_all();
    if (p->status != Status::STOPPED) end_unstarted(*p, kNotStarted);
    throw;
  }
  std::lock_guard lock(mu_);
  p->starting = false;
  changed_.notify_all();
  if (stopped_) fail_status(Code::Unavailable, "the shim is shutting down");
  if (p->status == Status::CREATED) {
    p->status = Status::RUNNING;
    follow(p, vm);
  }
  if (r.exec_id().empty()) {
    events::TaskStart e;
    e.set_container_id(r.id());
    e.set_pid(task_pid_locked());
    events_.publish("/tasks/start", e);
  } else {
    events::TaskExecStarted e;
    e.set_container_id(r.id());
    e.set_exec_id(r.exec_id());
    e.set_pid(task_pid_locked());
    events_.publish("/tasks/exec-started", e);
  }
  task::StartResponse resp;
  resp.set_pid(task_pid_locked());
  return resp;
}

void PodTasks::follow(const std::shared_ptr<ProcessRecord>& p, std::shared_ptr<PodVm> vm) {
  ProcessRecord* raw = p.get();  // the record drops its follower before it goes
  p->vm = vm;                    // which the VM outlives
  p->follower = vm->follow({p->id, p->exec_id}, p->fds.relay_fds(),
                           [this, raw](const sandbox::ProcessEnd& end) { on_end(raw, end); });
}

events::TaskExit PodTasks::mark_exited(ProcessRecord& p, uint32_t status) {
  p.status = Status::STOPPED;
  p.exit_status = status;
  p.exited_at = timestamp_now();
  changed_.notify_all();
  events::TaskExit e;
  e.set_container_id(p.id);
  e.set_id(p.exec_id.empty() ? p.id : p.exec_id);
  e.set_pid(task_pid_locked());
  e.set_exit_status(status);
  *e.mutable_exited_at() = p.exited_at;
  return e;
}

events::TaskExit PodTasks::end_unstarted(ProcessRecord& p, uint32_t status) {
  p.fds = {};
  return mark_exited(p, status);
}

void PodTasks::end_with_vm(ProcessRecord& p) {
  std::unique_lock lock(mu_);
  // Its watch is about to end it with the VM's cause; a process nobody
  // watches (a created init) ends here.
  changed_.wait_for(lock, kVmEndGrace, [&] { return p.status == Status::STOPPED; });
  if (p.status == Status::STOPPED) return;
  events::TaskExit e = mark_exited(p, sandbox::kVmLostStatus);
  lock.unlock();
  events_.publish("/tasks/exit", e);
}

void PodTasks::on_end(ProcessRecord* p, const sandbox::ProcessEnd& end) {
  // An OOM kill is a SIGKILL: its event goes out before the exit, as from
  // runc's shim, whatever the agent's OOM watch has passed on so far.
  if (end.status == 128 + SIGKILL && p->vm) p->vm->sync_oom();
  events::TaskExit e;
  {
    std::lock_guard lock(mu_);
    if (p->status == Status::STOPPED) return;
    if (end.outputs_closed) {
      // containerd's readers see end of file once the output is all there.
      p->fds.out.reset();
      p->fds.err.reset();
    }
    if (!end.error.empty()) spdlog::error("pod {}: {}: {}", pod_, p->name(), end.error);
    e = mark_exited(*p, static_cast<uint32_t>(end.status));
  }
  events_.publish("/tasks/exit", e);
}

task::DeleteResponse PodTasks::remove(const task::DeleteRequest& r) {
  check_container_id(r.id());
  std::unique_ptr<TaskRecord> gone_task;
  std::shared_ptr<ProcessRecord> gone_exec;
  std::shared_ptr<PodVm> vm;
  task::DeleteResponse resp;
  bool pod_ended = false;
  {
    std::lock_guard lock(mu_);
    TaskRecord& t = task_of(r.id());
    auto p = process_of(r.id(), r.exec_id());
    if (p->status == Status::RUNNING || p->starting)
      fail_status(Code::FailedPrecondition, "{} {} is running: kill it first",
                  r.exec_id().empty() ? "task" : "exec",
                  r.exec_id().empty() ? r.id() : r.exec_id());
    // Never started: deleting it kills it where it waits.
    if (p->status == Status::CREATED) mark_exited(*p, r.exec_id().empty() ? 128 + SIGKILL : 0);
    resp.set_pid(task_pid_locked());
    resp.set_exit_status(p->exit_status);
    *resp.mutable_exited_at() = p->exited_at;
    if (!r.exec_id().empty()) {
      gone_exec = std::move(t.execs.at(r.exec_id()));
      t.execs.erase(r.exec_id());
    } else {
      gone_task = std::move(tasks_.at(r.id()));
      tasks_.erase(r.id());
      // The id stays taken until the guest's container is gone.
      creating_.insert(r.id());
      pod_ended = tasks_.empty() && creating_.size() == 1;
      vm = vm_;
    }
  }
  // Outside the lock: the guest call, and a record drops its follower,
  // whose end callback may want the lock.
  gone_exec.reset();
  if (gone_task) {
    try {
      if (vm && !vm->vm_gone()) vm->remove_container(r.id());
    } catch (const std::exception& e) {
      spdlog::warn("task {}: removing it from the guest: {}", r.id(), e.what());
    }
    events::TaskDelete e;
    e.set_container_id(r.id());
    e.set_pid(resp.pid());
    e.set_exit_status(resp.exit_status());
    *e.mutable_exited_at() = resp.exited_at();
    events_.publish("/tasks/delete", e);
    gone_task.reset();
    std::lock_guard lock(mu_);
    creating_.erase(r.id());
    changed_.notify_all();
  }
  // The pod's last task is gone: so is its VM, before the answer, as a
  // runc task's processes are gone once it is deleted (containerd's
  // Shutdown, which ends the shim, does not wait for the shim to exit).
  if (pod_ended) stop();
  return resp;
}

task::PidsResponse PodTasks::pids(const task::PidsRequest& r) {
  task::PidsResponse resp;
  for (uint32_t pid : vm_for(r.id())->pids(r.id())) resp.add_processes()->set_pid(pid);
  return resp;
}

void PodTasks::pause(const std::string& id) { set_paused(id, true); }

void PodTasks::resume(const std::string& id) { set_paused(id, false); }

void PodTasks::set_paused(const std::string& id, bool paused) {
  std::shared_ptr<PodVm> vm = vm_for(id);
  paused ? vm->pause(id) : vm->resume(id);
  {
    std::lock_guard lock(mu_);
    task_of(id).paused = paused;
  }
  if (paused) {
    events::TaskPaused e;
    e.set_container_id(id);
    events_.publish("/tasks/paused", e);
  } else {
    events::TaskResumed e;
    e.set_container_id(id);
    events_.publish("/tasks/resumed", e);
  }
}

void PodTasks::kill(const task::KillRequest& r) {
  std::shared_ptr<PodVm> vm;  // before p: the record's watch goes first
  std::shared_ptr<ProcessRecord> p;
  {
    std::unique_lock lock(mu_);
    p = process_of(r.id(), r.exec_id());
    // A Start in flight decides first whether the process runs, as when
    // the calls were serialized.
    changed_.wait(lock, [&] { return !p->starting || stopped_; });
    if (p->status == Status::STOPPED)
      fail_status(Code::NotFound, "process {} of task {} already finished",
                  r.exec_id().empty() ? "init" : r.exec_id(), r.id());
    if (p->status == Status::CREATED && !r.exec_id().empty())
      fail_status(Code::FailedPrecondition, "exec {} of task {} has not been started", r.exec_id(),
                  r.id());
    if (r.signal() < 1 || r.signal() > 64)
      fail_status(Code::InvalidArgument, "signal {} is not a signal number (1-64)", r.signal());
    vm = vm_locked(r.id());
  }
  try {
    vm->signal({r.id(), r.exec_id()}, static_cast<int>(r.signal()), r.all());
  } catch (const std::exception&) {
    if (!vm->vm_gone()) throw;
    // The VM ended under the process, before its watch said so: the
    // process has finished, which is what containerd must hear (its
    // StopContainer then goes on), not that the agent is unreachable.
    end_with_vm(*p);
    fail_status(Code::NotFound, "process {} of task {} already finished: its VM ended",
                r.exec_id().empty() ? "init" : r.exec_id(), r.id());
  }
  // A created init waits for start with default dispositions: a signal that
  // terminates by default ends it, and nobody watches it yet but us (as
  // with runc, whose waiting init dies the same way).
  events::TaskExit e;
  {
    std::lock_guard lock(mu_);
    if (p->status != Status::CREATED || p->starting || !terminates_by_default(r.signal())) return;
    e = end_unstarted(*p, 128 + r.signal());
  }
  events_.publish("/tasks/exit", e);
}

void PodTasks::exec(const task::ExecProcessRequest& r) {
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
  p->fds = open_stdio(p->stdio, {r.exec_id(), ns_});
  t.execs.emplace(r.exec_id(), p);
  events::TaskExecAdded e;
  e.set_container_id(r.id());
  e.set_exec_id(r.exec_id());
  events_.publish("/tasks/exec-added", e);
}

void PodTasks::resize_pty(const task::ResizePtyRequest& r) {
  std::shared_ptr<PodVm> vm;
  {
    std::lock_guard lock(mu_);
    process_of(r.id(), r.exec_id());
    vm = vm_locked(r.id());
  }
  vm->resize({r.id(), r.exec_id()}, r.height(), r.width());
}

void PodTasks::close_io(const task::CloseIORequest& r) {
  std::lock_guard lock(mu_);
  auto p = process_of(r.id(), r.exec_id());
  if (r.stdin()) close_stdin_fifo(p->stdio.in);
}

void PodTasks::update(const std::string& id, const std::string& resources_json) {
  vm_for(id)->update(id, resources_json);
}

task::WaitResponse PodTasks::wait(const task::WaitRequest& r, std::stop_token stop) {
  std::shared_ptr<ProcessRecord> p;  // before the lock: the last reference may join a watch
  std::unique_lock lock(mu_);
  p = process_of(r.id(), r.exec_id());
  changed_.wait(lock, stop, [&] { return p->status == Status::STOPPED || stopped_; });
  if (p->status != Status::STOPPED)
    fail_status(Code::Unavailable, "the shim is shutting down before {} exited", r.id());
  task::WaitResponse resp;
  resp.set_exit_status(p->exit_status);
  *resp.mutable_exited_at() = p->exited_at;
  return resp;
}

agent::v1::StatsContainerResponse PodTasks::stats(const std::string& id) {
  return vm_for(id)->stats(id);
}

}  // namespace vmrt::shim
