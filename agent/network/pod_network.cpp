#include "agent/network/pod_network.h"

namespace vmrt::agent::network {

void join_pod_network(oci::Spec& spec, const std::string& pod_netns) {
  for (oci::Namespace& ns : spec.linux.namespaces)
    if (ns.type == "network" && !ns.path.empty()) ns.path = pod_netns;
}

}  // namespace vmrt::agent::network
