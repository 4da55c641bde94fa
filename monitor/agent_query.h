#pragma once
// Asking a pod VM's agent (proto/agent.proto, SandboxStats) for the guest's
// own figures at scrape time: its online CPUs and each container's cgroup
// figures. The agent runs in the guest, which its tenant may control: the
// answer is bounded in time (one deadline for connecting, asking and
// reading) and in size (kMaxAgentAnswer, checked from the frame's header
// before its payload is read), and nothing of it is trusted but its
// protobuf encoding (agent_metrics.h bounds what becomes a metric).
//
// One synchronous exchange on its own connection, no reader thread: a
// guest that never answers holds nothing once the deadline passes.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "monitor/deadline_io.h"
#include "proto/agent.pb.h"

namespace vmrt::monitor {

// The longest answer taken: a few hundred bytes per container.
inline constexpr size_t kMaxAgentAnswer = 256 * 1024;

// A ttrpc Response payload as SandboxStats' answer. nullopt when the agent
// does not know the call (an agent older than api_version 6); throws
// vmrt::Error for an error status or bytes that do not decode.
std::optional<agent::v1::SandboxStatsResponse> decode_sandbox_stats(std::string_view payload);

// Asks over `fd`, a connected stream to the agent, before `deadline`.
std::optional<agent::v1::SandboxStatsResponse> ask_sandbox_stats(int fd, Clock::time_point deadline,
                                                                 const std::string& what);

// Connects to the agent through the VM's hybrid vsock socket (the sandbox
// directory's vm/vm.sock) and asks, all within `timeout`.
std::optional<agent::v1::SandboxStatsResponse> query_agent_stats(
    const std::filesystem::path& vm_socket, std::chrono::milliseconds timeout);

}  // namespace vmrt::monitor
