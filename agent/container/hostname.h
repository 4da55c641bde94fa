#pragma once
// hostname, domainname and linux.sysctl: settings of the container's own
// UTS, IPC and network namespaces.

#include <string>
#include <vector>

#include "agent/container/namespaces.h"
#include "common/oci/spec.h"

namespace vmrt::agent {

class Child;

struct Sysctl {
  std::string key;   // as in the spec: net.ipv4.ip_forward
  std::string path;  // /proc/sys/net/ipv4/ip_forward
  std::string value;
};

struct UtsPlan {
  std::string hostname, domainname;
  std::vector<Sysctl> sysctls;
};

// Throws vmrt::Error when a setting would change the agent's own namespace
// (a hostname without a UTS namespace, net.* without a network namespace,
// any sysctl that no namespace isolates).
UtsPlan plan_uts(const oci::Spec& spec, const NamespacePlan& namespaces);

// Child, after enter_rootfs (sysctls go through the container's /proc).
void apply_uts(const Child& child, const UtsPlan& plan);

}  // namespace vmrt::agent
