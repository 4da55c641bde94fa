#pragma once
// containerd's Task service (runtime/v2/task/shim.proto) for one pod: each
// rpc translated to the pod's task table (PodTasks), which holds the tasks'
// state machine and the VM. One handler convention for every method: logged
// in containerd's log, the agent's failures answered with their own status
// code.

#include <google/protobuf/empty.pb.h>

#include <memory>

#include "common/ttrpc/server.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "shim/events.h"
#include "shim/pod_location.h"
#include "shim/pod_tasks.h"
#include "shim/shim_args.h"
#include "shim/thread_runner.h"

namespace vmrt::shim {

using google::protobuf::Empty;

class TaskService {
 public:
  // The shim's: the pod's VM is a sandbox::Sandbox in `where`.
  TaskService(ShimArgs args, PodLocation where, EventSink& events);
  // Over any VM (a fake, in unit tests of the state machine).
  TaskService(ShimArgs args, EventSink& events, PodVmFactory boot);
  TaskService(const TaskService&) = delete;
  TaskService& operator=(const TaskService&) = delete;

  void register_methods(ttrpc::Server& server);

  // True once containerd asked the shim to go (Shutdown with no task left).
  bool shutdown_requested() { return tasks_.shutdown_requested(); }
  // Ends every process and the VM, joins every thread. Idempotent.
  void stop() noexcept { tasks_.stop(); }
  // True when stopping a sandbox left a mount in the pod's directory, which
  // must then stay (Sandbox::stop).
  bool mounts_left() { return tasks_.mounts_left(); }

  // The Task API, one method per rpc; errors are thrown as ttrpc statuses.
  task::StateResponse state(const task::StateRequest& r) { return tasks_.state(r); }
  task::CreateTaskResponse create(const task::CreateTaskRequest& r) { return tasks_.create(r); }
  task::StartResponse start(const task::StartRequest& r) { return tasks_.start(r); }
  task::DeleteResponse remove(const task::DeleteRequest& r) { return tasks_.remove(r); }
  task::PidsResponse pids(const task::PidsRequest& r) { return tasks_.pids(r); }
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
  Empty checkpoint(const task::CheckpointTaskRequest& r);

 private:
  const ShimArgs args_;
  // Before tasks_: the VM is booted on its thread, which must outlive it.
  std::unique_ptr<ThreadRunner> spawner_;
  PodTasks tasks_;
};

}  // namespace vmrt::shim
