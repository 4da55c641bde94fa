#include "tools/cri/cri_client.h"

#include <fmt/format.h>

#include <thread>

#include "common/ttrpc/status.h"

namespace vmrt::cri {

CallError::CallError(std::string method, const grpc::Status& status)
    // gRPC and ttrpc share status codes and their names.
    : Error(fmt::format("{}: {}: {}", method,
                        ttrpc::code_name(static_cast<ttrpc::Code>(status.error_code())),
                        status.error_message())),
      method_(std::move(method)),
      code_(status.error_code()),
      message_(status.error_message()) {}

std::string grpc_target(const std::string& endpoint) {
  if (endpoint.rfind("unix:", 0) == 0) return endpoint;
  // gRPC reads "unix:PATH" as a relative or absolute path, "unix://" needs
  // an absolute one.
  return "unix:" + endpoint;
}

namespace {

std::shared_ptr<grpc::Channel> make_channel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  // ExecSync output and verbose status info (a whole OCI spec) can pass
  // gRPC's 4 MiB default; crictl allows 16 MiB too.
  args.SetMaxReceiveMessageSize(16 << 20);
  // Waiting for a containerd that is still starting should not sit out
  // gRPC's default reconnect backoff, which grows to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(grpc_target(endpoint), grpc::InsecureChannelCredentials(), args);
}

}  // namespace

Client::Client(const std::string& endpoint, Duration timeout)
    : stub_(v1::RuntimeService::NewStub(make_channel(endpoint))), timeout_(timeout) {}

template <typename Req, typename Resp>
Resp Client::call(const char* method,
                  grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                  const Req& req, Duration extra) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout_ + extra);
  Resp resp;
  grpc::Status status = ((*stub_).*rpc)(&ctx, req, &resp);
  if (!status.ok()) throw CallError(method, status);
  return resp;
}

v1::VersionResponse Client::version() {
  v1::VersionRequest req;
  // The CRI version the client speaks; servers answer with theirs.
  req.set_version("v1");
  return call("Version", &Stub::Version, req);
}

v1::StatusResponse Client::status(bool verbose) {
  v1::StatusRequest req;
  req.set_verbose(verbose);
  return call("Status", &Stub::Status, req);
}

void Client::wait_ready(Duration limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  std::string last;
  for (;;) {
    try {
      v1::StatusResponse s = status();
      bool ready = false;
      for (const auto& c : s.status().conditions()) {
        if (c.type() == "RuntimeReady") {
          ready = c.status();
          last = fmt::format("RuntimeReady is {} ({}: {})", c.status(), c.reason(), c.message());
        }
      }
      if (ready) return;
      if (last.empty()) last = "Status has no RuntimeReady condition";
    } catch (const CallError& e) {
      last = e.what();
    }
    if (std::chrono::steady_clock::now() >= until)
      fail("the CRI runtime was not ready within {} ms: {}", limit.count(), last);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string Client::run_pod_sandbox(const v1::PodSandboxConfig& config,
                                    const std::string& runtime_handler) {
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = config;
  req.set_runtime_handler(runtime_handler);
  return call("RunPodSandbox", &Stub::RunPodSandbox, req).pod_sandbox_id();
}

void Client::stop_pod_sandbox(const std::string& pod_id) {
  v1::StopPodSandboxRequest req;
  req.set_pod_sandbox_id(pod_id);
  call("StopPodSandbox", &Stub::StopPodSandbox, req);
}

void Client::remove_pod_sandbox(const std::string& pod_id) {
  v1::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(pod_id);
  call("RemovePodSandbox", &Stub::RemovePodSandbox, req);
}

v1::PodSandboxStatusResponse Client::pod_sandbox_status(const std::string& pod_id, bool verbose) {
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(pod_id);
  req.set_verbose(verbose);
  return call("PodSandboxStatus", &Stub::PodSandboxStatus, req);
}

std::vector<v1::PodSandbox> Client::list_pod_sandbox(const v1::PodSandboxFilter& filter) {
  v1::ListPodSandboxRequest req;
  *req.mutable_filter() = filter;
  auto resp = call("ListPodSandbox", &Stub::ListPodSandbox, req);
  return {resp.items().begin(), resp.items().end()};
}

std::string Client::create_container(const std::string& pod_id, const v1::ContainerConfig& config,
                                     const v1::PodSandboxConfig& sandbox_config) {
  v1::CreateContainerRequest req;
  req.set_pod_sandbox_id(pod_id);
  *req.mutable_config() = config;
  *req.mutable_sandbox_config() = sandbox_config;
  return call("CreateContainer", &Stub::CreateContainer, req).container_id();
}

void Client::start_container(const std::string& container_id) {
  v1::StartContainerRequest req;
  req.set_container_id(container_id);
  call("StartContainer", &Stub::StartContainer, req);
}

void Client::stop_container(const std::string& container_id, std::chrono::seconds grace) {
  v1::StopContainerRequest req;
  req.set_container_id(container_id);
  req.set_timeout(grace.count());
  call("StopContainer", &Stub::StopContainer, req, grace);
}

void Client::remove_container(const std::string& container_id) {
  v1::RemoveContainerRequest req;
  req.set_container_id(container_id);
  call("RemoveContainer", &Stub::RemoveContainer, req);
}

v1::ContainerStatusResponse Client::container_status(const std::string& container_id,
                                                     bool verbose) {
  v1::ContainerStatusRequest req;
  req.set_container_id(container_id);
  req.set_verbose(verbose);
  return call("ContainerStatus", &Stub::ContainerStatus, req);
}

std::vector<v1::Container> Client::list_containers(const v1::ContainerFilter& filter) {
  v1::ListContainersRequest req;
  *req.mutable_filter() = filter;
  auto resp = call("ListContainers", &Stub::ListContainers, req);
  return {resp.containers().begin(), resp.containers().end()};
}

v1::ExecSyncResponse Client::exec_sync(const std::string& container_id,
                                       const std::vector<std::string>& cmd,
                                       std::chrono::seconds limit) {
  v1::ExecSyncRequest req;
  req.set_container_id(container_id);
  for (const auto& a : cmd) req.add_cmd(a);
  req.set_timeout(limit.count());
  return call("ExecSync", &Stub::ExecSync, req, limit);
}

v1::ContainerStats Client::container_stats(const std::string& container_id) {
  v1::ContainerStatsRequest req;
  req.set_container_id(container_id);
  return call("ContainerStats", &Stub::ContainerStats, req).stats();
}

void Client::update_container_resources(const std::string& container_id,
                                        const v1::LinuxContainerResources& resources) {
  v1::UpdateContainerResourcesRequest req;
  req.set_container_id(container_id);
  *req.mutable_linux() = resources;
  call("UpdateContainerResources", &Stub::UpdateContainerResources, req);
}

std::string Client::port_forward(const std::string& pod_id, const std::vector<int32_t>& ports) {
  v1::PortForwardRequest req;
  req.set_pod_sandbox_id(pod_id);
  for (int32_t p : ports) req.add_port(p);
  return call("PortForward", &Stub::PortForward, req).url();
}

}  // namespace vmrt::cri
