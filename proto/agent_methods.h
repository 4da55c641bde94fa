#pragma once
// The methods of vmrt.agent.v1.Agent (proto/agent.proto), for code that
// registers or calls each of them with its types: X(Name, name) stands for
// `rpc Name(NameRequest) returns (NameResponse)`, and `name` is its C++
// name (AgentClient::name). protoc generates no service code for ttrpc;
// tests/unit/proto/agent_methods_test.cpp checks
// this list against the service in agent.proto.

#define VMRT_AGENT_METHODS(X)          \
  X(Health, health)                    \
  X(CreateSandbox, create_sandbox)     \
  X(DestroySandbox, destroy_sandbox)   \
  X(CreateContainer, create_container) \
  X(StartContainer, start_container)   \
  X(RemoveContainer, remove_container) \
  X(PauseContainer, pause_container)   \
  X(ResumeContainer, resume_container) \
  X(UpdateContainer, update_container) \
  X(StatsContainer, stats_container)   \
  X(ListProcesses, list_processes)     \
  X(ExecProcess, exec_process)         \
  X(SignalProcess, signal_process)     \
  X(WaitProcess, wait_process)         \
  X(WriteStdin, write_stdin)           \
  X(CloseStdin, close_stdin)           \
  X(ReadOutput, read_output)           \
  X(ResizeTerminal, resize_terminal)   \
  X(OomEvents, oom_events)             \
  X(OnlineCpus, online_cpus)           \
  X(SandboxStats, sandbox_stats)

namespace vmrt::agent {
// The ttrpc service name of the methods above.
inline constexpr const char* kAgentService = "vmrt.agent.v1.Agent";
}  // namespace vmrt::agent
