#pragma once
// containerd's Task service (runtime/v2/task/shim.proto) for one pod: the
// pod's first task starts the sandbox VM, the pod's other tasks (CRI
// containers) are created in it, and the VM stops when the last task is
// deleted and containerd shuts the shim down.

#include <google/protobuf/empty.pb.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "common/ttrpc/server.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "sandbox/sandbox.h"
#include "shim/events.h"
#include "shim/pod_location.h"
#include "shim/shim_args.h"
#include "shim/thread_runner.h"

namespace vmrt::shim {

namespace task = containerd::task::v2;
using google::protobuf::Empty;

struct ProcessRecord;
struct TaskRecord;

class TaskService {
 public:
  TaskService(ShimArgs args, PodLocation where, EventPublisher& events);
  ~TaskService();  // stop()
  TaskService(const TaskService&) = delete;
  TaskService& operator=(const TaskService&) = delete;

  void register_methods(ttrpc::Server& server);

  // True once containerd asked the shim to go (Shutdown with no task left).
  bool shutdown_requested();
  // Ends every process and the VM, joins every thread. Idempotent.
  void stop() noexcept;
  // True when stopping a sandbox left a mount in the pod's directory, which
  // must then stay (Sandbox::stop).
  bool mounts_left();

  // The Task API, one method per rpc; errors are thrown as ttrpc statuses.
  task::StateResponse state(const task::StateRequest& r);
  task::CreateTaskResponse create(const task::CreateTaskRequest& r);
  task::StartResponse start(const task::StartRequest& r);
  task::DeleteResponse remove(const task::DeleteRequest& r);
  task::PidsResponse pids(const task::PidsRequest& r);
  Empty pause(const task::PauseRequest& r);
  Empty resume(const task::ResumeRequest& r);
  Empty kill(const task::KillRequest& r);
  Empty exec(const task::ExecProcessRequest& r);
  Empty resize_pty(const task::ResizePtyRequest& r);
  Empty close_io(const task::CloseIORequest& r);
  Empty update(const task::UpdateTaskRequest& r);
  task::WaitResponse wait(const ttrpc::Context& ctx, const task::WaitRequest& r);
  task::StatsResponse stats(const task::StatsRequest& r);
  task::ConnectResponse connect(const task::ConnectRequest& r);
  Empty shutdown(const task::ShutdownRequest& r);

 private:
  // Under mu_.
  TaskRecord& task_of(const std::string& id);
  std::shared_ptr<ProcessRecord> process_of(const std::string& id, const std::string& exec_id);
  uint32_t task_pid() const;
  void start_sandbox(const std::string& pod, const oci::Spec& spec, sandbox::RuntimeConfig config);
  void adopt_pod_namespaces(oci::Spec& spec) const;
  // Stops `sb`; true (logged) when a mount stayed behind.
  static bool end_sandbox(std::unique_ptr<sandbox::Sandbox> sb, const std::string& pod) noexcept;

  // Relays the process's stdio and waits for it on a thread of its own.
  void watch(const std::shared_ptr<ProcessRecord>& p);
  // Records that `p` ended with `status` (mu_ held): waiters return.
  // Returns its exit event, for the caller to publish if it counts as run.
  containerd::events::TaskExit mark_exited(ProcessRecord& p, uint32_t status);
  // mark_exited for a process that was never started, whose FIFOs close too.
  containerd::events::TaskExit end_unstarted(ProcessRecord& p, uint32_t status);
  void on_exit(ProcessRecord* p, uint32_t status);
  void watch_oom(sandbox::AgentClient& agent, std::stop_token stop);
  void stop_oom_watch();

  const ShimArgs args_;
  const PodLocation where_;
  EventPublisher& events_;
  ThreadRunner spawner_;

  std::mutex mu_;
  std::condition_variable_any exited_;
  std::map<std::string, std::unique_ptr<TaskRecord>> tasks_;
  std::unique_ptr<sandbox::Sandbox> sandbox_;
  std::string pod_;
  uint32_t pod_guest_pid_ = 0;  // the pod sandbox task's init, in the guest
  bool shutdown_ = false;
  bool stopped_ = false;
  bool mounts_left_ = false;
  std::jthread oom_thread_;  // its stop token ends the OomEvents calls
};

}  // namespace vmrt::shim
