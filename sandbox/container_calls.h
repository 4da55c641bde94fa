#pragma once
// The operations on a container in a sandbox VM, for the shim and the CLI
// alike: each is one agent call, with the request built and the agent's
// answer turned into plain values. The callers only translate their
// clients' requests (containerd's Task API, runc's command line) into these.

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/agent_client.h"
#include "sandbox/process_watch.h"

namespace vmrt::sandbox {

struct ContainerStdio {
  bool terminal = false;    // a pseudo-terminal in the guest
  bool open_stdin = false;  // stdin reaches the process through WriteStdin
};

class ContainerCalls {
 public:
  explicit ContainerCalls(AgentClient& agent) : agent_(agent) {}

  // Runs the created container's process.
  void start(const std::string& id);
  // Starts `process_json` (an OCI process) as exec `p.exec_id` of `p`.
  void exec(const ProcessRef& p, const std::string& process_json, ContainerStdio stdio);
  // `all`: every process of the container, not only `p`.
  void signal(const ProcessRef& p, int sig, bool all = false,
              std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void pause(const std::string& id);
  void resume(const std::string& id);
  // `resources_json`: OCI LinuxResources.
  void update(const std::string& id, const std::string& resources_json);
  v1::StatsContainerResponse stats(const std::string& id);
  // The container's processes, as guest pids.
  std::vector<uint32_t> pids(const std::string& id);
  void resize(const ProcessRef& p, uint32_t rows, uint32_t cols,
              std::chrono::milliseconds timeout = std::chrono::seconds(60));

 private:
  AgentClient& agent_;
};

}  // namespace vmrt::sandbox
