#include "sandbox/agent_client.h"

#include "common/hybrid_vsock.h"

namespace vmrt::sandbox {

AgentError agent_error(std::string_view method, const ttrpc::StatusError& e) {
  std::string message = e.message();
  // A VM that went away mid-call shows up as a lost connection; say so in
  // words a user can act on.
  if (e.status_code() == ttrpc::Code::Unavailable)
    message = "the sandbox VM is not reachable (" + message + ")";
  return AgentError(fmt::format("agent: {}: {}", method, message), e.status_code());
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
    out->set_metric(in.metric);
  }
}

AgentClient::AgentClient(UniqueFd connection)
    : client_(std::make_unique<ttrpc::Client>(std::move(connection))) {}

AgentClient AgentClient::connect(const std::filesystem::path& vm_socket,
                                 std::chrono::milliseconds timeout) {
  return AgentClient(hybrid_vsock::connect_vsock(vm_socket, kAgentPort, timeout));
}

}  // namespace vmrt::sandbox
