// libFuzzer target: the agent's requests as the host sends them. The first
// byte picks the message, the rest is its protobuf encoding; a message that
// parses goes through the checks and translations the service runs before
// it acts (ids, signals, the sandbox's hostname, DNS and network, the OCI
// JSON fields and the container, process and resources plans made from
// them). The host is trusted less than the agent: each step returns or
// throws vmrt::Error (RequestError), anything else is a finding.
#include <google/protobuf/stubs/logging.h>

#include <cstdint>
#include <functional>
#include <string>

#include "agent/container/cgroup_resources.h"
#include "agent/container/plan.h"
#include "agent/network/pod_network.h"
#include "agent/service/request_parse.h"
#include "agent/service/sandbox.h"
#include "common/error.h"
#include "common/log.h"
#include "proto/agent.pb.h"

using namespace vmrt;
using namespace vmrt::agent;

namespace {

// Where CreateSandbox mounts the share when the request names no place.
const std::filesystem::path kShared = "/run/vmrt/shared";

void create_sandbox(const v1::CreateSandboxRequest& r) { plan_sandbox(r); }

void create_container(const v1::CreateContainerRequest& r) {
  check_id("container_id", r.container_id());
  oci::Spec spec = parse_container_spec(r.oci_spec_json());
  network::join_pod_network(spec);
  std::filesystem::path rootfs = resolve_in_share(kShared, r.rootfs());
  spec.root.path = rootfs.string();
  plan_container(spec, {rootfs.parent_path(), rootfs, r.overlay_rootfs(),
                        "/run/vmrt/containers/" + r.container_id(), r.container_id()});
}

void exec_process(const v1::ExecProcessRequest& r) {
  check_id("container_id", r.container_id());
  check_id("exec_id", r.exec_id());
  plan_process(parse_exec_process(r.oci_process_json()), nullptr);
}

void update_container(const v1::UpdateContainerRequest& r) {
  check_id("container_id", r.container_id());
  plan_resources(parse_resources(r.resources_json()));
}

void signal_process(const v1::SignalProcessRequest& r) {
  check_id("container_id", r.container_id());
  if (!r.exec_id().empty()) check_id("exec_id", r.exec_id());
  check_signal(r.signal());
}

// The requests that name a process and carry nothing else to check.
template <typename Request>
void process_ids(const Request& r) {
  check_id("container_id", r.container_id());
  if (!r.exec_id().empty()) check_id("exec_id", r.exec_id());
}

template <typename Request>
void container_id(const Request& r) {
  check_id("container_id", r.container_id());
}

template <typename Request>
std::function<void(std::string_view)> parsed(void (*check)(const Request&)) {
  return [check](std::string_view bytes) {
    Request r;
    if (r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) check(r);
  };
}

// By the first byte of an input; the seed corpus's files start with these
// numbers, so new messages go at the end.
const std::function<void(std::string_view)> kRequests[] = {
    parsed(create_sandbox),
    parsed(create_container),
    parsed(exec_process),
    parsed(update_container),
    parsed(signal_process),
    parsed(container_id<v1::StartContainerRequest>),
    parsed(container_id<v1::RemoveContainerRequest>),
    parsed(container_id<v1::StatsContainerRequest>),
    parsed(process_ids<v1::WaitProcessRequest>),
    parsed(process_ids<v1::WriteStdinRequest>),
    parsed(process_ids<v1::ReadOutputRequest>),
    parsed(process_ids<v1::ResizeTerminalRequest>),
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  spdlog::set_level(spdlog::level::off);
  // libprotobuf logs every string field that is not UTF-8: noise, and slow.
  google::protobuf::SetLogHandler(nullptr);
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    kRequests[data[0] % std::size(kRequests)](bytes);
  } catch (const Error&) {
  }
  return 0;
}
