#pragma once
// The tasks of one pod and their processes: the state machine containerd's
// Task API expects of them (created → running → stopped, exec'ed processes
// beside each task's init), the events it publishes on each step, and the
// pod's VM under them: the pod's first task boots it, its other tasks (CRI
// containers) are created in it, and it stops when the last task is
// deleted. The lock covers the tables only: the VM's boot and every agent
// call run outside it, so that a slow call holds up nobody else.

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>

#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "shim/events.h"
#include "shim/pod_vm.h"

namespace vmrt::shim {

namespace task = containerd::task::v2;

struct ProcessRecord;
struct TaskRecord;

class PodTasks {
 public:
  // `ns`: containerd's namespace, for logging programs' environment.
  PodTasks(std::string ns, EventSink& events, PodVmFactory boot);
  ~PodTasks();  // stop()
  PodTasks(const PodTasks&) = delete;
  PodTasks& operator=(const PodTasks&) = delete;

  // One method per Task rpc; errors are thrown as ttrpc statuses (or
  // sandbox::AgentError, which keeps the agent's code).
  task::StateResponse state(const task::StateRequest& r);
  task::CreateTaskResponse create(const task::CreateTaskRequest& r);
  task::StartResponse start(const task::StartRequest& r);
  task::DeleteResponse remove(const task::DeleteRequest& r);
  task::PidsResponse pids(const task::PidsRequest& r);
  void pause(const std::string& id);
  void resume(const std::string& id);
  void kill(const task::KillRequest& r);
  void exec(const task::ExecProcessRequest& r);
  void resize_pty(const task::ResizePtyRequest& r);
  void close_io(const task::CloseIORequest& r);
  void update(const std::string& id, const std::string& resources_json);
  // Blocks until the process has exited, the shim stops, or `stop`.
  task::WaitResponse wait(const task::WaitRequest& r, std::stop_token stop);
  agent::v1::StatsContainerResponse stats(const std::string& id);
  uint32_t task_pid();
  // containerd's Shutdown: true once no task is left (or `now`).
  void shutdown(bool now);
  bool shutdown_requested();

  // Ends every process and the VM, joins every thread. Idempotent.
  void stop() noexcept;
  // True when stopping the VM left a mount in the pod's directory, which
  // must then stay.
  bool mounts_left();

 private:
  // Under mu_.
  TaskRecord& task_of(const std::string& id);
  std::shared_ptr<ProcessRecord> process_of(const std::string& id, const std::string& exec_id);
  uint32_t task_pid_locked() const;
  // The VM, for a call outside the lock; throws when there is none.
  std::shared_ptr<PodVm> vm_locked(const std::string& id);
  std::shared_ptr<PodVm> vm_for(const std::string& id);
  void adopt_pod_namespaces(oci::Spec& spec) const;
  void set_paused(const std::string& id, bool paused);
  std::shared_ptr<PodVm> boot(const std::string& pod, const oci::Spec& spec,
                              sandbox::RuntimeConfig config);
  // Stops `vm`; true (logged) when a mount stayed behind.
  bool end_vm(std::shared_ptr<PodVm> vm) noexcept;

  void follow(const std::shared_ptr<ProcessRecord>& p, std::shared_ptr<PodVm> vm);
  // Records that `p` ended with `status` (mu_ held): waiters return.
  // Returns its exit event, for the caller to publish.
  containerd::events::TaskExit mark_exited(ProcessRecord& p, uint32_t status);
  // mark_exited for a process that was never started, whose FIFOs close too.
  containerd::events::TaskExit end_unstarted(ProcessRecord& p, uint32_t status);
  void on_end(ProcessRecord* p, const sandbox::ProcessEnd& end);
  // Ends `p` with the VM that died under it (kVmLostStatus), unless its
  // watch does so first. Takes the table's lock.
  void end_with_vm(ProcessRecord& p);

  const std::string ns_;
  EventSink& events_;
  const PodVmFactory boot_;

  std::mutex mu_;
  std::condition_variable_any changed_;  // a process exited, the VM booted
  std::map<std::string, std::unique_ptr<TaskRecord>> tasks_;
  std::set<std::string> creating_;  // ids whose Create runs outside the lock
  std::shared_ptr<PodVm> vm_;
  bool booting_ = false;
  std::string pod_;
  uint32_t pod_guest_pid_ = 0;  // the pod sandbox task's init, in the guest
  bool shutdown_ = false;
  bool stopped_ = false;
  bool mounts_left_ = false;
};

}  // namespace vmrt::shim
