#pragma once
// Which network namespace a container of the pod gets. The pod's network is
// the VM's: the agent's own network namespace, where CreateSandbox put the
// interfaces and routes. So in a container's spec
// - a "network" namespace with a path (CRI's pod netns, a host path that
//   means nothing in the guest, or a sibling's /proc/PID/ns/net) joins the
//   agent's network namespace, whatever the path says;
// - a "network" namespace without a path is a new, empty one (loopback
//   only), as with runc;
// - no "network" entry leaves the container in the agent's namespace, as
//   runc leaves it in its caller's.

#include <string>

#include "common/oci/spec.h"

namespace vmrt::agent::network {

// The agent's network namespace, as a path the container library opens.
inline constexpr const char* kPodNetworkNamespace = "/proc/self/ns/net";

// Rewrites the paths of `spec`'s network namespace entries to `pod_netns`.
void join_pod_network(oci::Spec& spec, const std::string& pod_netns = kPodNetworkNamespace);

}  // namespace vmrt::agent::network
