// The CRI subset in proto/cri/api.proto is only useful if containerd reads
// it as the real thing: package, service and method names, and the field
// numbers and types of the messages a pod's life goes through, checked
// against the published k8s.io/cri-api v1 API (v0.25, what containerd 1.6
// serves).

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include "proto/cri/api.grpc.pb.h"
#include "proto/cri/api.pb.h"

namespace vmrt::cri {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;

struct Field {
  const char* message;
  const char* field;
  int number;
  FieldDescriptor::Type type;
  bool repeated = false;
};

constexpr auto kString = FieldDescriptor::TYPE_STRING;
constexpr auto kBytes = FieldDescriptor::TYPE_BYTES;
constexpr auto kMsg = FieldDescriptor::TYPE_MESSAGE;
constexpr auto kEnum = FieldDescriptor::TYPE_ENUM;
constexpr auto kBool = FieldDescriptor::TYPE_BOOL;
constexpr auto kInt64 = FieldDescriptor::TYPE_INT64;
constexpr auto kInt32 = FieldDescriptor::TYPE_INT32;
constexpr auto kUint32 = FieldDescriptor::TYPE_UINT32;
constexpr auto kUint64 = FieldDescriptor::TYPE_UINT64;

// Maps are repeated messages on the wire.
const Field kUpstream[] = {
    {"RunPodSandboxRequest", "config", 1, kMsg},
    {"RunPodSandboxRequest", "runtime_handler", 2, kString},
    {"RunPodSandboxResponse", "pod_sandbox_id", 1, kString},
    {"PodSandboxConfig", "metadata", 1, kMsg},
    {"PodSandboxConfig", "hostname", 2, kString},
    {"PodSandboxConfig", "log_directory", 3, kString},
    {"PodSandboxConfig", "dns_config", 4, kMsg},
    {"PodSandboxConfig", "labels", 6, kMsg, true},
    {"PodSandboxConfig", "annotations", 7, kMsg, true},
    {"PodSandboxConfig", "linux", 8, kMsg},
    {"PodSandboxMetadata", "name", 1, kString},
    {"PodSandboxMetadata", "uid", 2, kString},
    {"PodSandboxMetadata", "namespace", 3, kString},
    {"PodSandboxMetadata", "attempt", 4, kUint32},
    {"LinuxPodSandboxConfig", "cgroup_parent", 1, kString},
    {"LinuxPodSandboxConfig", "security_context", 2, kMsg},
    {"LinuxPodSandboxConfig", "sysctls", 3, kMsg, true},
    {"LinuxPodSandboxConfig", "overhead", 4, kMsg},
    {"LinuxPodSandboxConfig", "resources", 5, kMsg},
    {"LinuxSandboxSecurityContext", "namespace_options", 1, kMsg},
    {"LinuxSandboxSecurityContext", "run_as_user", 3, kMsg},
    {"LinuxSandboxSecurityContext", "readonly_rootfs", 4, kBool},
    {"LinuxSandboxSecurityContext", "privileged", 6, kBool},
    {"LinuxSandboxSecurityContext", "run_as_group", 8, kMsg},
    {"NamespaceOption", "network", 1, kEnum},
    {"NamespaceOption", "pid", 2, kEnum},
    {"NamespaceOption", "ipc", 3, kEnum},
    {"NamespaceOption", "target_id", 4, kString},
    {"StopPodSandboxRequest", "pod_sandbox_id", 1, kString},
    {"RemovePodSandboxRequest", "pod_sandbox_id", 1, kString},
    {"PodSandboxStatusRequest", "pod_sandbox_id", 1, kString},
    {"PodSandboxStatusRequest", "verbose", 2, kBool},
    {"PodSandboxStatusResponse", "status", 1, kMsg},
    {"PodSandboxStatusResponse", "info", 2, kMsg, true},
    {"PodSandboxStatus", "id", 1, kString},
    {"PodSandboxStatus", "metadata", 2, kMsg},
    {"PodSandboxStatus", "state", 3, kEnum},
    {"PodSandboxStatus", "created_at", 4, kInt64},
    {"PodSandboxStatus", "linux", 6, kMsg},
    {"PodSandboxStatus", "runtime_handler", 9, kString},
    {"LinuxPodSandboxStatus", "namespaces", 1, kMsg},
    {"Namespace", "options", 2, kMsg},
    {"ListPodSandboxRequest", "filter", 1, kMsg},
    {"PodSandboxFilter", "label_selector", 3, kMsg, true},
    {"ListPodSandboxResponse", "items", 1, kMsg, true},
    {"PodSandbox", "id", 1, kString},
    {"PodSandbox", "state", 3, kEnum},
    {"PodSandbox", "runtime_handler", 7, kString},
    {"CreateContainerRequest", "pod_sandbox_id", 1, kString},
    {"CreateContainerRequest", "config", 2, kMsg},
    {"CreateContainerRequest", "sandbox_config", 3, kMsg},
    {"CreateContainerResponse", "container_id", 1, kString},
    {"ContainerConfig", "metadata", 1, kMsg},
    {"ContainerConfig", "image", 2, kMsg},
    {"ContainerConfig", "command", 3, kString, true},
    {"ContainerConfig", "args", 4, kString, true},
    {"ContainerConfig", "working_dir", 5, kString},
    {"ContainerConfig", "envs", 6, kMsg, true},
    {"ContainerConfig", "mounts", 7, kMsg, true},
    {"ContainerConfig", "labels", 9, kMsg, true},
    {"ContainerConfig", "annotations", 10, kMsg, true},
    {"ContainerConfig", "log_path", 11, kString},
    {"ContainerConfig", "tty", 14, kBool},
    {"ContainerConfig", "linux", 15, kMsg},
    {"ContainerMetadata", "name", 1, kString},
    {"ContainerMetadata", "attempt", 2, kUint32},
    {"ImageSpec", "image", 1, kString},
    {"KeyValue", "key", 1, kString},
    {"KeyValue", "value", 2, kString},
    {"LinuxContainerConfig", "resources", 1, kMsg},
    {"LinuxContainerConfig", "security_context", 2, kMsg},
    {"LinuxContainerSecurityContext", "namespace_options", 3, kMsg},
    {"LinuxContainerSecurityContext", "no_new_privs", 11, kBool},
    {"LinuxContainerResources", "memory_limit_in_bytes", 4, kInt64},
    {"LinuxContainerResources", "unified", 9, kMsg, true},
    {"StartContainerRequest", "container_id", 1, kString},
    {"StopContainerRequest", "container_id", 1, kString},
    {"StopContainerRequest", "timeout", 2, kInt64},
    {"RemoveContainerRequest", "container_id", 1, kString},
    {"ContainerFilter", "state", 2, kMsg},
    {"ContainerFilter", "pod_sandbox_id", 3, kString},
    {"Container", "pod_sandbox_id", 2, kString},
    {"Container", "state", 6, kEnum},
    {"ContainerStatus", "state", 3, kEnum},
    {"ContainerStatus", "exit_code", 7, kInt32},
    {"ExecSyncRequest", "container_id", 1, kString},
    {"ExecSyncRequest", "cmd", 2, kString, true},
    {"ExecSyncRequest", "timeout", 3, kInt64},
    {"ExecSyncResponse", "stdout", 1, kBytes},
    {"ExecSyncResponse", "stderr", 2, kBytes},
    {"ExecSyncResponse", "exit_code", 3, kInt32},
    {"PortForwardRequest", "pod_sandbox_id", 1, kString},
    {"PortForwardRequest", "port", 2, kInt32, true},
    {"PortForwardResponse", "url", 1, kString},
    {"ContainerStatsRequest", "container_id", 1, kString},
    {"ContainerStatsResponse", "stats", 1, kMsg},
    {"ContainerStats", "attributes", 1, kMsg},
    {"ContainerStats", "cpu", 2, kMsg},
    {"ContainerStats", "memory", 3, kMsg},
    {"ContainerStats", "writable_layer", 4, kMsg},
    {"CpuUsage", "usage_core_nano_seconds", 2, kMsg},
    {"MemoryUsage", "working_set_bytes", 2, kMsg},
    {"MemoryUsage", "rss_bytes", 5, kMsg},
    {"UInt64Value", "value", 1, kUint64},
    {"StatusResponse", "status", 1, kMsg},
    {"RuntimeStatus", "conditions", 1, kMsg, true},
    {"RuntimeCondition", "type", 1, kString},
    {"RuntimeCondition", "status", 2, kBool},
    {"VersionResponse", "runtime_name", 2, kString},
};

TEST(CriProto, FieldNumbersAndTypesMatchUpstream) {
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  for (const Field& f : kUpstream) {
    SCOPED_TRACE(std::string(f.message) + "." + f.field);
    const auto* m = pool->FindMessageTypeByName(std::string("runtime.v1.") + f.message);
    ASSERT_NE(m, nullptr);
    const auto* d = m->FindFieldByName(f.field);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->number(), f.number);
    EXPECT_EQ(d->type(), f.type);
    EXPECT_EQ(d->is_repeated(), f.repeated);
  }
}

TEST(CriProto, EnumValuesMatchUpstream) {
  EXPECT_EQ(runtime::v1::POD, 0);
  EXPECT_EQ(runtime::v1::CONTAINER, 1);
  EXPECT_EQ(runtime::v1::NODE, 2);
  EXPECT_EQ(runtime::v1::TARGET, 3);
  EXPECT_EQ(runtime::v1::SANDBOX_READY, 0);
  EXPECT_EQ(runtime::v1::SANDBOX_NOTREADY, 1);
  EXPECT_EQ(runtime::v1::CONTAINER_CREATED, 0);
  EXPECT_EQ(runtime::v1::CONTAINER_RUNNING, 1);
  EXPECT_EQ(runtime::v1::CONTAINER_EXITED, 2);
  EXPECT_EQ(runtime::v1::CONTAINER_UNKNOWN, 3);
}

// gRPC routes a call by "/runtime.v1.RuntimeService/<Method>".
TEST(CriProto, ServiceAndMethodNamesMatchUpstream) {
  const auto* s = DescriptorPool::generated_pool()->FindServiceByName("runtime.v1.RuntimeService");
  ASSERT_NE(s, nullptr);
  for (const char* method :
       {"Version", "RunPodSandbox", "StopPodSandbox", "RemovePodSandbox", "PodSandboxStatus",
        "ListPodSandbox", "CreateContainer", "StartContainer", "StopContainer", "RemoveContainer",
        "ListContainers", "ContainerStatus", "ExecSync", "ContainerStats", "Status",
        "PortForward"}) {
    SCOPED_TRACE(method);
    const auto* m = s->FindMethodByName(method);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->input_type()->full_name(), std::string("runtime.v1.") + method + "Request");
    EXPECT_EQ(m->output_type()->full_name(), std::string("runtime.v1.") + method + "Response");
    EXPECT_FALSE(m->client_streaming() || m->server_streaming());
  }
}

// The bytes of a host-network pod request, written out by hand from the
// upstream numbering: what containerd decodes.
TEST(CriProto, HostNetworkPodRequestBytes) {
  runtime::v1::RunPodSandboxRequest req;
  req.mutable_config()->mutable_metadata()->set_name("p");
  req.mutable_config()
      ->mutable_linux()
      ->mutable_security_context()
      ->mutable_namespace_options()
      ->set_network(runtime::v1::NODE);
  req.set_runtime_handler("vmrt");
  std::string want;
  want += std::string("\x0a\x0d", 2);                          // config (1), 13 bytes:
  want += std::string("\x0a\x03\x0a\x01p", 5);                 //   metadata (1) { name (1) }
  want += std::string("\x42\x06\x12\x04\x0a\x02\x08\x02", 8);  //   linux (8) { security_context (2)
                                                               //   { namespace_options (1)
                                                               //   { network (1) = NODE } } }
  want += std::string("\x12\x04vmrt", 6);                      // runtime_handler (2)
  EXPECT_EQ(req.SerializeAsString(), want);
}

}  // namespace
}  // namespace vmrt::cri
