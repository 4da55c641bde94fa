#pragma once
// Which of what CNI configured in the pod's network namespace the guest
// gets, and in which terms: the pod's interface (the one with a default
// route, IPv4 or IPv6), its global IPv4 and IPv6 addresses with their
// prefixes, and the main table's unicast routes through it, link-local
// gateways (fe80::1) included. Left out is what the guest kernel makes for
// itself: IPv6 link-local addresses (the NIC has the veth's MAC, so its own
// is the same) and the fe80::/64 routes, and the host's privacy (temporary)
// addresses and addresses that failed duplicate detection.
//
// Pure logic over the dumps of rtnl_links.h, so that it is tested without
// namespaces.

#include <cstddef>
#include <vector>

#include "common/netlink_links.h"
#include "sandbox/agent_client.h"
#include "sandbox/network/rtnl_links.h"

namespace vmrt::sandbox::network {

// The agent's bounds (agent/network/network_config.h): a namespace with
// more is refused here, with a message, rather than by the agent.
inline constexpr size_t kMaxGuestAddresses = 32;
inline constexpr size_t kMaxGuestRoutes = 256;

// The interface CNI configured: the one carrying a default route, or the
// first other one that is up; null when there is none but loopback (and
// taps). Says in the log which others the VM does not get.
const NetlinkLink* choose_pod_interface(const std::vector<NetlinkLink>& links,
                                        const std::vector<RouteInfo>& routes);

// The guest's description of `veth`. Throws vmrt::Error when it has more
// addresses or routes than the agent takes.
PodNetwork guest_network(const NetlinkLink& veth, const std::vector<AddressInfo>& addresses,
                         const std::vector<RouteInfo>& routes);

}  // namespace vmrt::sandbox::network
