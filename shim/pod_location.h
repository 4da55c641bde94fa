#pragma once
// Which pod a task belongs to, and where that pod's shim lives. containerd
// starts the shim once per task; the tasks of one Kubernetes pod must reach
// the same shim (and so the same VM), which the CRI plugin's annotations
// tell: a "container" names its pod's sandbox, whose own task is the pod.

#include <filesystem>
#include <string>

#include "common/oci/spec.h"

namespace vmrt::shim {

inline constexpr const char* kContainerTypeAnnotation = "io.kubernetes.cri.container-type";
inline constexpr const char* kSandboxIdAnnotation = "io.kubernetes.cri.sandbox-id";

// The pod (sandbox) id of task `id`: its CRI sandbox's id for a CRI
// container, else its own (a pod sandbox, or a task started with ctr).
// Throws vmrt::Error (EINVAL) when either id breaks the container id rules
// (common/container_id.h).
std::string pod_of(const std::string& id, const oci::StringMap& annotations);

struct PodLocation {
  std::filesystem::path dir;     // the shim's state: socket, sandbox VM directory, log
  std::filesystem::path socket;  // the shim's ttrpc socket
  std::string address() const { return "unix://" + socket.string(); }
  std::filesystem::path sandbox_dir() const { return dir / "sandbox"; }
};

// Under `root` (default /run/vmrt/shim, or VMRT_SHIM_ROOT), one directory per
// (containerd instance, namespace, pod), named by a hash of the three so that
// the socket path stays short whatever the ids.
PodLocation locate_pod(const std::string& containerd_address, const std::string& ns,
                       const std::string& pod, const std::filesystem::path& root = {});

// Whether a shim answers on the pod's socket.
bool shim_running(const PodLocation& where);

// The root used when none is given.
std::filesystem::path default_shim_root();

}  // namespace vmrt::shim
