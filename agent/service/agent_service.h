#pragma once
// The gRPC service vmrt.agent.v1.Agent: one sandbox, its containers and
// their processes. Handlers run on gRPC's threads; each container has a lock
// that serializes calls into the container library (which wants one thread
// per container at a time), while blocking waits (process exit, output,
// stdin) poll descriptors of their own and check for cancellation, so they
// never hold a lock while they wait.

#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "agent/container/container.h"
#include "agent/service/agent_options.h"
#include "agent/service/oom_broadcast.h"
#include "agent/service/process_entry.h"
#include "agent/service/sandbox.h"
#include "proto/agent.grpc.pb.h"

namespace vmrt::agent {

class AgentService final : public v1::Agent::Service {
 public:
  explicit AgentService(AgentOptions options);
  ~AgentService() override;  // destroys every container

  grpc::Status Health(grpc::ServerContext*, const v1::HealthRequest*, v1::HealthResponse*) override;
  grpc::Status CreateSandbox(grpc::ServerContext*, const v1::CreateSandboxRequest*,
                             v1::CreateSandboxResponse*) override;
  grpc::Status DestroySandbox(grpc::ServerContext*, const v1::DestroySandboxRequest*,
                              v1::DestroySandboxResponse*) override;
  grpc::Status CreateContainer(grpc::ServerContext*, const v1::CreateContainerRequest*,
                               v1::CreateContainerResponse*) override;
  grpc::Status StartContainer(grpc::ServerContext*, const v1::StartContainerRequest*,
                              v1::StartContainerResponse*) override;
  grpc::Status RemoveContainer(grpc::ServerContext*, const v1::RemoveContainerRequest*,
                               v1::RemoveContainerResponse*) override;
  grpc::Status PauseContainer(grpc::ServerContext*, const v1::PauseContainerRequest*,
                              v1::PauseContainerResponse*) override;
  grpc::Status ResumeContainer(grpc::ServerContext*, const v1::ResumeContainerRequest*,
                               v1::ResumeContainerResponse*) override;
  grpc::Status UpdateContainer(grpc::ServerContext*, const v1::UpdateContainerRequest*,
                               v1::UpdateContainerResponse*) override;
  grpc::Status StatsContainer(grpc::ServerContext*, const v1::StatsContainerRequest*,
                              v1::StatsContainerResponse*) override;
  grpc::Status ListProcesses(grpc::ServerContext*, const v1::ListProcessesRequest*,
                             v1::ListProcessesResponse*) override;
  grpc::Status ExecProcess(grpc::ServerContext*, const v1::ExecProcessRequest*,
                           v1::ExecProcessResponse*) override;
  grpc::Status SignalProcess(grpc::ServerContext*, const v1::SignalProcessRequest*,
                             v1::SignalProcessResponse*) override;
  grpc::Status WaitProcess(grpc::ServerContext*, const v1::WaitProcessRequest*,
                           v1::WaitProcessResponse*) override;
  grpc::Status WriteStdin(grpc::ServerContext*, const v1::WriteStdinRequest*,
                          v1::WriteStdinResponse*) override;
  grpc::Status CloseStdin(grpc::ServerContext*, const v1::CloseStdinRequest*,
                          v1::CloseStdinResponse*) override;
  grpc::Status ReadOutput(grpc::ServerContext*, const v1::ReadOutputRequest*,
                          grpc::ServerWriter<v1::OutputChunk>*) override;
  grpc::Status ResizeTerminal(grpc::ServerContext*, const v1::ResizeTerminalRequest*,
                              v1::ResizeTerminalResponse*) override;
  grpc::Status OomEvents(grpc::ServerContext*, const v1::OomEventsRequest*,
                         grpc::ServerWriter<v1::OomEvent>*) override;

 private:
  // One container: the library's object and the agent's process records.
  // Handlers hold a shared_ptr for their whole call, so a concurrent
  // RemoveContainer only unlists it; the objects go when the last call ends.
  struct Entry {
    std::mutex mu;  // serializes calls into `container`
    std::unique_ptr<Container> container;
    std::unique_ptr<ProcessEntry> init;
    std::map<std::string, std::unique_ptr<Process>> exec_processes;
    std::map<std::string, std::unique_ptr<ProcessEntry>> execs;
    uint64_t oom_kills = 0;  // last count seen by the OOM watcher
    bool removed = false;
  };

  const Sandbox& sandbox();  // FAILED_PRECONDITION before CreateSandbox
  std::shared_ptr<Entry> find(const std::string& id);
  ProcessEntry& process(Entry& e, const std::string& container_id, const std::string& exec_id);
  // The status of `p`, once it exited; takes e.mu briefly.
  std::optional<ExitStatus> try_status(Entry& e, ProcessEntry& p);
  void remove(const std::string& id, Entry& e);
  void destroy_all();
  void watch_oom();

  const AgentOptions options_;
  std::mutex mu_;  // guards sandbox_ and entries_
  std::unique_ptr<Sandbox> sandbox_;
  // nullptr: the id is reserved by a CreateContainer in progress.
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  OomBroadcast oom_;
  bool stopping_ = false;
  std::condition_variable stop_cv_;
  std::thread oom_thread_;
};

}  // namespace vmrt::agent
