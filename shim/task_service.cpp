#include "shim/task_service.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "common/ttrpc/status.h"
#include "common/ttrpc/typed.h"
#include "shim/metrics.h"
#include "shim/sandbox_pod_vm.h"

namespace vmrt::shim {

using ttrpc::Code;
using ttrpc::fail_status;

namespace {

constexpr const char* kVersion = "vmrt " VMRT_VERSION;

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

TaskService::TaskService(ShimArgs args, PodLocation where, EventSink& events)
    : args_(std::move(args)),
      spawner_(std::make_unique<ThreadRunner>()),
      tasks_(args_.namespace_, events,
             [where = std::move(where), spawner = spawner_.get()](PodVmOptions o) {
               return std::make_unique<SandboxPodVm>(where, *spawner, std::move(o));
             }) {}

TaskService::TaskService(ShimArgs args, EventSink& events, PodVmFactory boot)
    : args_(std::move(args)), tasks_(args_.namespace_, events, std::move(boot)) {}

Empty TaskService::pause(const task::PauseRequest& r) {
  tasks_.pause(r.id());
  return {};
}

Empty TaskService::resume(const task::ResumeRequest& r) {
  tasks_.resume(r.id());
  return {};
}

Empty TaskService::kill(const task::KillRequest& r) {
  tasks_.kill(r);
  return {};
}

Empty TaskService::exec(const task::ExecProcessRequest& r) {
  tasks_.exec(r);
  return {};
}

Empty TaskService::resize_pty(const task::ResizePtyRequest& r) {
  tasks_.resize_pty(r);
  return {};
}

Empty TaskService::close_io(const task::CloseIORequest& r) {
  tasks_.close_io(r);
  return {};
}

Empty TaskService::update(const task::UpdateTaskRequest& r) {
  // containerd sends the OCI LinuxResources as JSON, which the agent takes.
  if (!r.resources().type_url().ends_with("LinuxResources"))
    fail_status(Code::InvalidArgument, "task {}: update takes OCI LinuxResources, not {}", r.id(),
                r.resources().type_url());
  tasks_.update(r.id(), r.resources().value());
  return {};
}

task::WaitResponse TaskService::wait(const ttrpc::Context& ctx, const task::WaitRequest& r) {
  return tasks_.wait(r, ctx.stop);
}

task::StatsResponse TaskService::stats(const task::StatsRequest& r) {
  auto m = to_metrics(tasks_.stats(r.id()));
  task::StatsResponse resp;
  resp.mutable_stats()->set_type_url(type_url_of(m));
  resp.mutable_stats()->set_value(m.SerializeAsString());
  return resp;
}

task::ConnectResponse TaskService::connect(const task::ConnectRequest&) {
  task::ConnectResponse resp;
  resp.set_shim_pid(static_cast<uint32_t>(::getpid()));
  resp.set_task_pid(tasks_.task_pid());
  resp.set_version(kVersion);
  return resp;
}

Empty TaskService::checkpoint(const task::CheckpointTaskRequest& r) {
  fail_status(Code::Unimplemented,
              "task {}: checkpoint is not supported by vmrt (the VM's state is not saved)", r.id());
}

Empty TaskService::shutdown(const task::ShutdownRequest& r) {
  tasks_.shutdown(r.now());
  return {};
}

void TaskService::register_methods(ttrpc::Server& server) {
  const std::string svc = "containerd.task.v2.Task";
  // One convention for every method, as the agent's: the handler gets the
  // call's context and request, and runs logged with the agent's codes kept.
#define VMRT_TASK_METHOD(Name, Req, Resp, call)                                        \
  ttrpc::add_typed_method<Req, Resp>(server, svc, Name,                                \
                                     [this](const ttrpc::Context& ctx, const Req& r) { \
                                       (void)ctx;                                      \
                                       return logged(Name, r, [&] { return call; });   \
                                     })
  VMRT_TASK_METHOD("State", task::StateRequest, task::StateResponse, state(r));
  VMRT_TASK_METHOD("Create", task::CreateTaskRequest, task::CreateTaskResponse, create(r));
  VMRT_TASK_METHOD("Start", task::StartRequest, task::StartResponse, start(r));
  VMRT_TASK_METHOD("Delete", task::DeleteRequest, task::DeleteResponse, remove(r));
  VMRT_TASK_METHOD("Pids", task::PidsRequest, task::PidsResponse, pids(r));
  VMRT_TASK_METHOD("Pause", task::PauseRequest, Empty, pause(r));
  VMRT_TASK_METHOD("Resume", task::ResumeRequest, Empty, resume(r));
  VMRT_TASK_METHOD("Kill", task::KillRequest, Empty, kill(r));
  VMRT_TASK_METHOD("Exec", task::ExecProcessRequest, Empty, exec(r));
  VMRT_TASK_METHOD("ResizePty", task::ResizePtyRequest, Empty, resize_pty(r));
  VMRT_TASK_METHOD("CloseIO", task::CloseIORequest, Empty, close_io(r));
  VMRT_TASK_METHOD("Update", task::UpdateTaskRequest, Empty, update(r));
  VMRT_TASK_METHOD("Wait", task::WaitRequest, task::WaitResponse, wait(ctx, r));
  VMRT_TASK_METHOD("Stats", task::StatsRequest, task::StatsResponse, stats(r));
  VMRT_TASK_METHOD("Connect", task::ConnectRequest, task::ConnectResponse, connect(r));
  VMRT_TASK_METHOD("Shutdown", task::ShutdownRequest, Empty, shutdown(r));
  VMRT_TASK_METHOD("Checkpoint", task::CheckpointTaskRequest, Empty, checkpoint(r));
#undef VMRT_TASK_METHOD
}

}  // namespace vmrt::shim
