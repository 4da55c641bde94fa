#include "sandbox/network/guest_network.h"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "common/error.h"

namespace vmrt::sandbox::network {
namespace {

bool in_main_table(const RouteInfo& r) {
  return r.table == RT_TABLE_MAIN && r.type == RTN_UNICAST &&
         (r.family == AF_INET || r.family == AF_INET6);
}

// fe80::/10 as text from inet_ntop: "fe8" to "feb" and a fourth hex digit.
bool is_link_local_v6(const std::string& text) {
  if (text.size() < 4 || text.compare(0, 2, "fe") != 0 || text[3] == ':') return false;
  char c = text[2];
  return c == '8' || c == '9' || c == 'a' || c == 'b';
}

bool handed_over(const AddressInfo& a) {
  // Link-local (scope link) and host addresses belong to the host side;
  // the guest kernel makes its own link-local one.
  if (a.scope != RT_SCOPE_UNIVERSE) return false;
  return !(a.flags & (IFA_F_TEMPORARY | IFA_F_DADFAILED));
}

bool handed_over(const RouteInfo& r) {
  // Every link's fe80::/64: the guest kernel adds it when the NIC comes up.
  return !(r.family == AF_INET6 && is_link_local_v6(r.destination));
}

}  // namespace

const NetlinkLink* choose_pod_interface(const std::vector<NetlinkLink>& links,
                                        const std::vector<RouteInfo>& routes) {
  std::vector<const NetlinkLink*> candidates;
  for (const auto& l : links)
    if (l.type != ARPHRD_LOOPBACK && (l.flags & IFF_UP) && l.kind != "tun")
      candidates.push_back(&l);
  if (candidates.empty()) return nullptr;
  const NetlinkLink* chosen = candidates.front();
  for (const auto& r : routes)
    if (in_main_table(r) && r.destination.empty())
      for (const NetlinkLink* l : candidates)
        if (l->index == r.oif) chosen = l;
  for (const NetlinkLink* l : candidates)
    if (l != chosen)
      spdlog::warn("pod network: interface {} is not given to the VM (only {} is)", l->name,
                   chosen->name);
  return chosen;
}

PodNetwork guest_network(const NetlinkLink& veth, const std::vector<AddressInfo>& addresses,
                         const std::vector<RouteInfo>& routes) {
  PodNetwork out;
  PodInterface guest;
  guest.name = veth.name;
  guest.mac = veth.mac_text();
  guest.mtu = veth.mtu;
  for (const auto& a : addresses)
    if (a.index == veth.index && handed_over(a)) guest.addresses.push_back({a.ip, a.prefix_len});
  if (guest.addresses.size() > kMaxGuestAddresses)
    fail("pod network: interface {} has {} addresses, a VM takes at most {}", veth.name,
         guest.addresses.size(), kMaxGuestAddresses);
  out.interfaces.push_back(std::move(guest));
  for (const auto& r : routes)
    if (r.oif == veth.index && in_main_table(r) && handed_over(r))
      out.routes.push_back({r.destination, r.gateway, veth.name, r.scope, r.source, r.metric});
  if (out.routes.size() > kMaxGuestRoutes)
    fail("pod network: interface {} has {} routes, a VM takes at most {}", veth.name,
         out.routes.size(), kMaxGuestRoutes);
  return out;
}

}  // namespace vmrt::sandbox::network
