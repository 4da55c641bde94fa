#pragma once
// A small client of the Kubernetes CRI v1 RuntimeService (proto/cri/api.proto)
// over a Unix socket, for tests and benchmarks that drive containerd's CRI
// plugin the way kubelet does. Every call has a deadline; a failed call throws
// CallError, whose message names the method and the gRPC status, so a test
// log says which step of a pod's life went wrong and how.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "proto/cri/api.grpc.pb.h"

namespace vmrt::cri {

namespace v1 = ::runtime::v1;
using Duration = std::chrono::milliseconds;

// "RunPodSandbox: UNAVAILABLE: failed to connect to all addresses".
class CallError : public Error {
 public:
  CallError(std::string method, const grpc::Status& status);
  const std::string& method() const noexcept { return method_; }
  grpc::StatusCode status_code() const noexcept { return code_; }
  const std::string& status_message() const noexcept { return message_; }

 private:
  std::string method_;
  grpc::StatusCode code_;
  std::string message_;
};

// The gRPC target for an endpoint given as a socket path or, as crictl and
// kubelet spell it, "unix:///path".
std::string grpc_target(const std::string& endpoint);

class Client {
 public:
  // The connection is made lazily, on the first call: constructing a Client
  // for a socket that does not exist yet is fine.
  explicit Client(const std::string& endpoint, Duration timeout = std::chrono::seconds(60));

  // The deadline of each call (ExecSync and StopContainer add their own
  // timeout to it, since the server waits that long before answering).
  Duration timeout() const { return timeout_; }
  void set_timeout(Duration t) { timeout_ = t; }

  v1::VersionResponse version();
  v1::StatusResponse status(bool verbose = false);
  // Waits until Status reports the condition RuntimeReady, polling, or throws
  // once `limit` has passed with the last error or condition seen. The CRI
  // plugin serves requests a moment after containerd's socket appears.
  void wait_ready(Duration limit);

  std::string run_pod_sandbox(const v1::PodSandboxConfig& config,
                              const std::string& runtime_handler);
  void stop_pod_sandbox(const std::string& pod_id);
  void remove_pod_sandbox(const std::string& pod_id);
  v1::PodSandboxStatusResponse pod_sandbox_status(const std::string& pod_id, bool verbose = false);
  std::vector<v1::PodSandbox> list_pod_sandbox(const v1::PodSandboxFilter& filter = {});

  std::string create_container(const std::string& pod_id, const v1::ContainerConfig& config,
                               const v1::PodSandboxConfig& sandbox_config);
  void start_container(const std::string& container_id);
  void stop_container(const std::string& container_id, std::chrono::seconds grace);
  void remove_container(const std::string& container_id);
  v1::ContainerStatusResponse container_status(const std::string& container_id,
                                               bool verbose = false);
  std::vector<v1::Container> list_containers(const v1::ContainerFilter& filter = {});

  // Runs cmd in the container and waits for it; `limit` of 0 means none. A
  // command that runs and fails is not an error: see exit_code().
  v1::ExecSyncResponse exec_sync(const std::string& container_id,
                                 const std::vector<std::string>& cmd,
                                 std::chrono::seconds limit = std::chrono::seconds(0));
  v1::ContainerStats container_stats(const std::string& container_id);
  // In-place resize: kubelet's UpdateContainerResources.
  void update_container_resources(const std::string& container_id,
                                  const v1::LinuxContainerResources& resources);
  // The streaming server's URL for forwarding `ports` of the pod (what
  // kubectl port-forward connects to: port_forward_client.h).
  std::string port_forward(const std::string& pod_id, const std::vector<int32_t>& ports);

 private:
  using Stub = v1::RuntimeService::Stub;
  template <typename Req, typename Resp>
  Resp call(const char* method, grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
            const Req& req, Duration extra = Duration::zero());

  std::unique_ptr<Stub> stub_;
  Duration timeout_;
};

}  // namespace vmrt::cri
