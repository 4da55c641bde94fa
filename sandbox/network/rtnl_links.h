#pragma once
// What the pod's network namespace holds, read with rtnetlink dumps (its
// links: common/netlink_links.h): the IPv4 and IPv6 addresses and unicast
// routes. This is what CNI configured on the pod's interface (a veth, for
// the bridge plugin) and what the guest's NIC must take over; which of it
// the guest gets is guest_network.h's choice.

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/netlink.h"
#include "common/netlink_links.h"

namespace vmrt::sandbox::network {

struct AddressInfo {
  int family = 0;  // AF_INET or AF_INET6
  int index = 0;
  std::string ip;
  uint32_t prefix_len = 0;
  uint32_t scope = 0;  // RT_SCOPE_UNIVERSE, RT_SCOPE_LINK (fe80::/10) ...
  uint32_t flags = 0;  // IFA_F_*
};

struct RouteInfo {
  int family = 0;
  int oif = 0;
  std::string destination;  // "10.88.0.0/16", "fd00::/64", "" for a default route
  std::string gateway;
  std::string source;
  uint32_t scope = 0;
  uint32_t metric = 0;
  uint32_t table = 0;
  uint32_t type = 0;  // RTN_UNICAST ...
};

// One RTM_NEWADDR / RTM_NEWROUTE message of a dump, IPv4 or IPv6; nothing
// for another type or family, a message too short, or an address attribute
// of the wrong size.
std::optional<AddressInfo> parse_address(const nlmsghdr& m);
std::optional<RouteInfo> parse_route(const nlmsghdr& m);

// Every IPv4 and IPv6 address and route of the namespace.
std::vector<AddressInfo> list_addresses(Netlink& nl);
std::vector<RouteInfo> list_routes(Netlink& nl);

// Link changes, each throwing vmrt::Error naming the link and the kernel's
// refusal.
void set_link_up(Netlink& nl, int index, uint32_t mtu, const std::string& name);

}  // namespace vmrt::sandbox::network
