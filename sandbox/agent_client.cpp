#include "sandbox/agent_client.h"

#include <grpcpp/create_channel_posix.h>

#include "common/fd_io.h"
#include "common/hybrid_vsock.h"

namespace vmrt::sandbox {

void check(const grpc::Status& s, std::string_view call) {
  if (s.ok()) return;
  std::string message = s.error_message();
  // A VM that went away mid-call shows up as a transport error; say so in
  // words a user can act on.
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE)
    message = "the sandbox VM is not reachable (" + message + ")";
  throw AgentError(fmt::format("agent: {}: {}", call, message), s.error_code());
}

void add_pod_network(const PodNetwork& network, v1::CreateSandboxRequest& request) {
  for (const PodInterface& in : network.interfaces) {
    v1::NetworkInterface* out = request.add_interfaces();
    out->set_name(in.name);
    out->set_mac(in.mac);
    out->set_mtu(in.mtu);
    for (const PodAddress& a : in.addresses) {
      v1::IpAddress* addr = out->add_addresses();
      addr->set_ip(a.ip);
      addr->set_prefix_len(a.prefix_len);
    }
  }
  for (const PodRoute& in : network.routes) {
    v1::Route* out = request.add_routes();
    out->set_destination(in.destination);
    out->set_gateway(in.gateway);
    out->set_device(in.device);
    out->set_scope(in.scope);
    out->set_source(in.source);
  }
}

std::unique_ptr<grpc::ClientContext> deadline_context(std::chrono::milliseconds timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
  return ctx;
}

AgentClient::AgentClient(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)), stub_(v1::Agent::NewStub(channel_)) {}

AgentClient AgentClient::connect(const std::filesystem::path& vm_socket,
                                 std::chrono::milliseconds timeout) {
  UniqueFd fd = hybrid_vsock::connect_vsock(vm_socket, kAgentPort, timeout);
  // gRPC's event engine expects a non-blocking socket it then owns.
  set_nonblocking(fd.get());
  return AgentClient(grpc::CreateInsecureChannelFromFd("vmrt-agent", fd.release()));
}

}  // namespace vmrt::sandbox
