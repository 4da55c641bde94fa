#pragma once
// The host's client of one sandbox VM's agent: vmrt.agent.v1 over ttrpc on
// one hybrid vsock connection to guest port 1024. Every vmrt process that
// works on a sandbox opens its own connection; the agent serves them side
// by side, and calls from several threads share one connection.

#include <chrono>
#include <filesystem>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/ttrpc/client.h"
#include "common/ttrpc/typed.h"
#include "proto/agent.pb.h"
#include "proto/agent_methods.h"

namespace vmrt::sandbox {

namespace v1 = vmrt::agent::v1;

inline constexpr uint32_t kAgentPort = 1024;

// A failed agent call: the message names the call and carries the agent's
// own message; code() tells NOT_FOUND from FAILED_PRECONDITION etc.
class AgentError : public Error {
 public:
  AgentError(const std::string& what, ttrpc::Code code) : Error(what), code_(code) {}
  ttrpc::Code code() const noexcept { return code_; }

 private:
  ttrpc::Code code_;
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
  uint32_t metric = 0;      // route priority; 0 = the kernel's default
};
struct PodNetwork {
  std::vector<PodInterface> interfaces;
  std::vector<PodRoute> routes;
  bool empty() const { return interfaces.empty() && routes.empty(); }
};

// Adds `network` to a CreateSandbox request.
void add_pod_network(const PodNetwork& network, v1::CreateSandboxRequest& request);

// The AgentError for a failed call `method`: "agent: <method>: <message>".
AgentError agent_error(std::string_view method, const ttrpc::StatusError& e);

// For a call's timeout: the call waits as long as the agent takes (a
// process's exit). It still ends when the connection does.
inline constexpr std::chrono::milliseconds kNoDeadline{0};

// How long one agent call may take, and what else ends it.
struct CallOptions {
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
  std::stop_token cancel = {};
};

class AgentClient {
 public:
  // One connection through the VM socket; throws vmrt::Error when the VMM
  // or the agent's port does not answer within `timeout`.
  static AgentClient connect(const std::filesystem::path& vm_socket,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Over a socket already connected to an agent (host tests: a Unix socket).
  explicit AgentClient(UniqueFd connection);

  // One method per rpc of proto/agent_methods.h, `name(request, options)`:
  // a misspelt method does not compile. Throws AgentError.
#define VMRT_AGENT_CLIENT_METHOD(Name, name)                                            \
  v1::Name##Response name(const v1::Name##Request& request, CallOptions options = {}) { \
    return call<v1::Name##Response>(#Name, request, std::move(options));                \
  }
  VMRT_AGENT_METHODS(VMRT_AGENT_CLIENT_METHOD)
#undef VMRT_AGENT_CLIENT_METHOD

 private:
  template <typename Response, typename Request>
  Response call(const char* method, const Request& request, CallOptions options) {
    ttrpc::CallOptions o;
    o.timeout = options.timeout;
    o.cancel = std::move(options.cancel);
    try {
      return ttrpc::call_typed<Response>(*client_, agent::kAgentService, method, request, o);
    } catch (const ttrpc::StatusError& e) {
      throw agent_error(method, e);
    }
  }

 private:
  std::unique_ptr<ttrpc::Client> client_;
};

}  // namespace vmrt::sandbox
