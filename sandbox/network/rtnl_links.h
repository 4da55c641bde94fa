#pragma once
// What the pod's network namespace holds, read with rtnetlink dumps (its
// links: common/netlink_links.h): the IPv4 addresses and the main table's IPv4 routes. This is
// what CNI configured on the pod's interface (a veth, for the bridge
// plugin) and what the guest's NIC must take over.

#include <cstdint>
#include <string>
#include <vector>

#include "common/netlink.h"
#include "common/netlink_links.h"

namespace vmrt::sandbox::network {

struct AddressInfo {
  int index = 0;
  std::string ip;
  uint32_t prefix_len = 0;
};

struct RouteInfo {
  int oif = 0;
  std::string destination;  // "10.88.0.0/16", "" for the default route
  std::string gateway;
  std::string source;
  uint32_t scope = 0;
};

// Global-scope IPv4 addresses (the guest kernel has no IPv6).
std::vector<AddressInfo> list_ipv4_addresses(Netlink& nl);
// Unicast routes of the main table.
std::vector<RouteInfo> list_ipv4_routes(Netlink& nl);

// Link changes, each throwing vmrt::Error naming the link and the kernel's
// refusal.
void set_link_up(Netlink& nl, int index, uint32_t mtu, const std::string& name);

}  // namespace vmrt::sandbox::network
