#include "monitor/agent_query.h"

#include <algorithm>

#include "common/error.h"
#include "common/hybrid_vsock.h"
#include "common/ttrpc/frame.h"
#include "common/ttrpc/status.h"
#include "proto/agent_methods.h"

namespace vmrt::monitor {
namespace {

// The agent's port (sandbox::kAgentPort; the sandbox library is not linked
// here for one constant).
constexpr uint32_t kAgentPort = 1024;
// Our one call's stream (client streams are odd).
constexpr uint32_t kStreamId = 1;

}  // namespace

std::optional<agent::v1::SandboxStatsResponse> decode_sandbox_stats(std::string_view payload) {
  ttrpc::wire::Response response = ttrpc::parse_response(payload);
  if (response.has_status() && response.status().code() != 0) {
    if (response.status().code() == static_cast<int32_t>(ttrpc::Code::Unimplemented))
      return std::nullopt;
    fail("SandboxStats failed with status {}: {}", response.status().code(),
         response.status().message().substr(0, 200));
  }
  agent::v1::SandboxStatsResponse stats;
  if (!stats.ParseFromString(response.payload()))
    fail("SandboxStats: an answer that does not decode ({} bytes)", response.payload().size());
  return stats;
}

std::optional<agent::v1::SandboxStatsResponse> ask_sandbox_stats(int fd, Clock::time_point deadline,
                                                                 const std::string& what) {
  ttrpc::wire::Request request;
  request.set_service(agent::kAgentService);
  request.set_method("SandboxStats");
  request.set_payload(agent::v1::SandboxStatsRequest{}.SerializeAsString());
  // The agent's own deadline: what is left of ours (at least 1 ms, so that
  // it is never "none").
  auto left = std::max<Clock::duration>(deadline - Clock::now(), std::chrono::milliseconds(1));
  request.set_timeout_nano(std::chrono::duration_cast<std::chrono::nanoseconds>(left).count());
  send_all(fd,
           ttrpc::encode_frame(kStreamId, ttrpc::MessageType::Request, request.SerializeAsString()),
           deadline, what);

  std::string head = receive_exact(fd, ttrpc::kHeaderSize, deadline, what);
  ttrpc::FrameHeader header = ttrpc::decode_header(std::span<const uint8_t, ttrpc::kHeaderSize>(
      reinterpret_cast<const uint8_t*>(head.data()), ttrpc::kHeaderSize));
  // Checked before anything of the payload is read or allocated.
  if (header.type != static_cast<uint8_t>(ttrpc::MessageType::Response))
    fail("{}: a frame of type {}, not a response", what, header.type);
  if (header.stream_id != kStreamId)
    fail("{}: an answer on stream {}, which was never asked", what, header.stream_id);
  if (header.length > kMaxAgentAnswer)
    fail("{}: an answer of {} bytes, more than {}", what, header.length, kMaxAgentAnswer);
  std::string payload = receive_exact(fd, header.length, deadline, what);
  try {
    return decode_sandbox_stats(payload);
  } catch (const Error& e) {
    fail("{}: {}", what, e.what());
  }
}

std::optional<agent::v1::SandboxStatsResponse> query_agent_stats(
    const std::filesystem::path& vm_socket, std::chrono::milliseconds timeout) {
  const std::string what = "agent through " + vm_socket.string();
  auto deadline = Clock::now() + timeout;
  UniqueFd fd = hybrid_vsock::connect_vsock(vm_socket, kAgentPort, timeout);
  return ask_sandbox_stats(fd.get(), deadline, what);
}

}  // namespace vmrt::monitor
