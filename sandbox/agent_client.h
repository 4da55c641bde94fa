#pragma once
// The host's client of one sandbox VM's agent: gRPC (vmrt.agent.v1) over one
// hybrid vsock connection to guest port 1024. Every vmrt process that works
// on a sandbox opens its own connection; the agent serves them side by side.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "proto/agent.grpc.pb.h"

namespace vmrt::sandbox {

namespace v1 = vmrt::agent::v1;

inline constexpr uint32_t kAgentPort = 1024;

// A failed agent call: the message names the call and carries the agent's
// own message; grpc_code() tells NOT_FOUND from FAILED_PRECONDITION etc.
class AgentError : public Error {
 public:
  AgentError(const std::string& what, grpc::StatusCode code) : Error(what), code_(code) {}
  grpc::StatusCode grpc_code() const noexcept { return code_; }

 private:
  grpc::StatusCode code_;
};

// The pod network the agent sets up in CreateSandbox (agent api_version 2),
// as the shim reads it from the pod's veth: plain values, checked by the
// agent (a bad one fails CreateSandbox with INVALID_ARGUMENT naming it).
struct PodAddress {
  std::string ip;  // "10.88.0.5", "fd00::5"
  uint32_t prefix_len = 0;
};
struct PodInterface {
  std::string name;  // in the guest; "" = eth0
  std::string mac;   // the MAC the VMM gave the virtio-net NIC
  uint32_t mtu = 0;  // 0: the NIC's
  std::vector<PodAddress> addresses;
};
struct PodRoute {
  std::string destination;  // CIDR; "" = default
  std::string gateway;      // "" = on-link
  std::string device;       // a PodInterface name or "lo"
  uint32_t scope = 0;       // rtnetlink scope; 0 = as ip route chooses
  std::string source;       // preferred source address, or ""
};
struct PodNetwork {
  std::vector<PodInterface> interfaces;
  std::vector<PodRoute> routes;
  bool empty() const { return interfaces.empty() && routes.empty(); }
};

// Adds `network` to a CreateSandbox request.
void add_pod_network(const PodNetwork& network, v1::CreateSandboxRequest& request);

// Throws AgentError "agent: <call>: <message>" unless `s` is OK.
void check(const grpc::Status& s, std::string_view call);

// A call context with a deadline `timeout` from now.
std::unique_ptr<grpc::ClientContext> deadline_context(std::chrono::milliseconds timeout);

class AgentClient {
 public:
  // One connection through the VM socket; throws vmrt::Error when the VMM
  // or the agent's port does not answer within `timeout`.
  static AgentClient connect(const std::filesystem::path& vm_socket,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10));

  v1::Agent::Stub& stub() { return *stub_; }

  // Typed shorthands for the unary calls, with a deadline of `timeout` and
  // AgentError on failure.
  template <typename Response, typename Request, typename Method>
  Response call(Method method, std::string_view name, const Request& request,
                std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    Response response;
    auto ctx = deadline_context(timeout);
    check(((*stub_).*method)(ctx.get(), request, &response), name);
    return response;
  }

 private:
  explicit AgentClient(std::shared_ptr<grpc::Channel> channel);
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Agent::Stub> stub_;
};

}  // namespace vmrt::sandbox
