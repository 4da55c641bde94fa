#pragma once
// The methods of vmrt.agent.v1.Agent (proto/agent.proto), for code that
// registers or calls each of them with its types: X(Name) stands for
// `rpc Name(NameRequest) returns (NameResponse)`. protoc generates no
// service code for ttrpc; tests/unit/proto/agent_methods_test.cpp checks
// this list against the service in agent.proto.

#define VMRT_AGENT_METHODS(X) \
  X(Health)                   \
  X(CreateSandbox)            \
  X(DestroySandbox)           \
  X(CreateContainer)          \
  X(StartContainer)           \
  X(RemoveContainer)          \
  X(PauseContainer)           \
  X(ResumeContainer)          \
  X(UpdateContainer)          \
  X(StatsContainer)           \
  X(ListProcesses)            \
  X(ExecProcess)              \
  X(SignalProcess)            \
  X(WaitProcess)              \
  X(WriteStdin)               \
  X(CloseStdin)               \
  X(ReadOutput)               \
  X(ResizeTerminal)           \
  X(OomEvents)

namespace vmrt::agent {
// The ttrpc service name of the methods above.
inline constexpr const char* kAgentService = "vmrt.agent.v1.Agent";
}  // namespace vmrt::agent
