#pragma once
// The links of the calling thread's network namespace, as an RTM_GETLINK
// dump lists them: what both the agent (finding the guest NIC by MAC) and
// the sandbox (finding the pod's veth) need to know of each.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/netlink.h"

namespace vmrt {

struct NetlinkLink {
  int index = 0;
  std::string name;
  std::string kind;          // IFLA_INFO_KIND: "veth", "tun"; "" for lo and plain NICs
  std::vector<uint8_t> mac;  // IFLA_ADDRESS; empty without one
  unsigned flags = 0;        // IFF_UP ...
  unsigned type = 0;         // ARPHRD_ETHER, ARPHRD_LOOPBACK ...
  uint32_t mtu = 0;

  std::string mac_text() const;  // "aa:bb:cc:dd:ee:ff", "" without a MAC
};

std::vector<NetlinkLink> list_links(Netlink& nl);

// RTM_NEWLINK on the existing link `index`: only what is given changes (its
// up/down state unless nullopt, its name unless "", its MTU unless 0).
NetlinkResult set_link(Netlink& nl, int index, std::optional<bool> up, const std::string& name,
                       uint32_t mtu);
// RTM_NEWLINK giving link `index` the hardware address `mac` (most drivers
// refuse while the link is up).
NetlinkResult set_link_address(Netlink& nl, int index, const std::vector<uint8_t>& mac);

}  // namespace vmrt
