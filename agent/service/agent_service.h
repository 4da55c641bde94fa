#pragma once
// The ttrpc service vmrt.agent.v1.Agent: one sandbox, its containers and
// their processes. Handlers run on the ttrpc server's threads, one per
// request; each container has a lock
// that serializes calls into the container library (which wants one thread
// per container at a time), while blocking waits (process exit, output,
// stdin) poll descriptors of their own and check the call's stop token (its
// connection ended) and deadline, so they never hold a lock while they wait.

#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "agent/container/container.h"
#include "agent/service/agent_options.h"
#include "agent/service/oom_log.h"
#include "agent/service/process_entry.h"
#include "agent/service/sandbox.h"
#include "common/ttrpc/server.h"
#include "proto/agent.pb.h"
#include "proto/agent_methods.h"

namespace vmrt::agent {

class AgentService {
 public:
  explicit AgentService(AgentOptions options);
  ~AgentService();  // destroys every container
  AgentService(const AgentService&) = delete;
  AgentService& operator=(const AgentService&) = delete;

  // Registers every method of proto/agent_methods.h on `server`, which must
  // stop (shutdown) before this service goes.
  void register_methods(ttrpc::Server& server);

  // One handler per method: `NameResponse Name(context, NameRequest)`,
  // throwing RequestError to answer with a status. register_methods wraps
  // each in handle(), which logs a failure under the method's name and
  // answers any other exception UNKNOWN.
#define VMRT_AGENT_HANDLER(Name, ...) \
  v1::Name##Response Name(const ttrpc::Context& context, const v1::Name##Request& request);
  VMRT_AGENT_METHODS(VMRT_AGENT_HANDLER)
#undef VMRT_AGENT_HANDLER

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
  // Publishes an OOM kill of container `id` that its cgroup counts and the
  // log does not have yet; takes e.mu briefly.
  void note_oom(const std::string& id, Entry& e);

  const AgentOptions options_;
  std::mutex mu_;  // guards sandbox_ and entries_
  std::unique_ptr<Sandbox> sandbox_;
  // nullptr: the id is reserved by a CreateContainer in progress.
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  OomLog oom_;
  // One OnlineCpus at a time: two with different counts would interleave
  // their CPUs' writes.
  std::mutex cpu_mu_;
  bool stopping_ = false;
  std::condition_variable stop_cv_;
  std::thread oom_thread_;
};

}  // namespace vmrt::agent
