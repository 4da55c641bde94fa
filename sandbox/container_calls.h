#pragma once
// The operations on a container in a sandbox VM, for the shim and the CLI
// alike: each is one agent call, with the request built and the agent's
// answer turned into plain values. The callers only translate their
// clients' requests (containerd's Task API, runc's command line) into these.

#include <cstdint>
#include <optional>
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

// The agent's api_version from which it serves OnlineCpus.
inline constexpr uint32_t kAgentApiOnlineCpus = 4;

// vCPU hotplug: asks the guest to have CPUs 0..count-1 online and the
// others offline (a VM started with more vCPUs than it boots, vmrt-vmm
// --max-cpus), and returns how many are online afterwards. An agent older
// than kAgentApiOnlineCpus is refused before any call, with an error
// saying so; `agent_api_version` is what its Health reported, asked here
// when not given. Throws AgentError for the agent's refusal (a count of 0
// or above the VM's vCPUs is INVALID_ARGUMENT).
uint32_t online_cpus(AgentClient& agent, uint32_t count,
                     std::optional<uint32_t> agent_api_version = std::nullopt,
                     CallOptions options = {});

// The agent's api_version from which ExecProcess has its guest target.
inline constexpr uint32_t kAgentApiDebugConsole = 5;

// The debug console: starts `process_json` (an OCI process) as exec
// `p.exec_id` of `p`, but in the guest's root namespaces, outside every
// container, as guest root; its stdio, signals and exit are then `p`'s as
// for exec. An agent older than kAgentApiDebugConsole is refused before
// any call (it would ignore the target and run the process in the
// container); `agent_api_version` is asked with Health when not given.
// The agent refuses with PERMISSION_DENIED (an AgentError) unless the
// sandbox was created with debug_console.
void exec_in_guest(AgentClient& agent, const ProcessRef& p, const std::string& process_json,
                   ContainerStdio stdio, std::optional<uint32_t> agent_api_version = std::nullopt);

}  // namespace vmrt::sandbox
