#include "sandbox/network/rtnl_links.h"

#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include "common/error.h"

namespace vmrt::sandbox::network {
namespace {

std::string ipv4(std::span<const uint8_t> a) {
  if (a.size() != 4) return {};
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, a.data(), text, sizeof text);
  return text;
}

}  // namespace

std::vector<AddressInfo> list_ipv4_addresses(Netlink& nl) {
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  auto req = NetlinkRequest::make(RTM_GETADDR, 0, ifa);
  std::vector<AddressInfo> out;
  nl.dump(req, [&](const nlmsghdr& m) {
    if (m.nlmsg_type != RTM_NEWADDR || m.nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) return;
    const auto* a = static_cast<const ifaddrmsg*>(NLMSG_DATA(&m));
    if (a->ifa_family != AF_INET || a->ifa_scope != RT_SCOPE_UNIVERSE) return;
    auto attrs = parse_attributes(m, sizeof(ifaddrmsg), IFA_MAX);
    // IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer's on
    // point-to-point links).
    auto addr = attrs[IFA_LOCAL].empty() ? attrs[IFA_ADDRESS] : attrs[IFA_LOCAL];
    std::string ip = ipv4(addr);
    if (!ip.empty()) out.push_back({static_cast<int>(a->ifa_index), ip, a->ifa_prefixlen});
  });
  return out;
}

std::vector<RouteInfo> list_ipv4_routes(Netlink& nl) {
  rtmsg rt{};
  rt.rtm_family = AF_INET;
  auto req = NetlinkRequest::make(RTM_GETROUTE, 0, rt);
  std::vector<RouteInfo> out;
  nl.dump(req, [&](const nlmsghdr& m) {
    if (m.nlmsg_type != RTM_NEWROUTE || m.nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) return;
    const auto* r = static_cast<const rtmsg*>(NLMSG_DATA(&m));
    auto attrs = parse_attributes(m, sizeof(rtmsg), RTA_MAX);
    uint32_t table = r->rtm_table;
    if (attrs[RTA_TABLE].size() == 4) std::memcpy(&table, attrs[RTA_TABLE].data(), 4);
    if (table != RT_TABLE_MAIN || r->rtm_type != RTN_UNICAST) return;
    RouteInfo route;
    if (attrs[RTA_OIF].size() == 4) std::memcpy(&route.oif, attrs[RTA_OIF].data(), 4);
    if (r->rtm_dst_len > 0) {
      std::string dst = ipv4(attrs[RTA_DST]);
      if (dst.empty()) return;
      route.destination = fmt::format("{}/{}", dst, r->rtm_dst_len);
    }
    route.gateway = ipv4(attrs[RTA_GATEWAY]);
    route.source = ipv4(attrs[RTA_PREFSRC]);
    route.scope = r->rtm_scope;
    out.push_back(std::move(route));
  });
  return out;
}

void set_link_up(Netlink& nl, int index, uint32_t mtu, const std::string& name) {
  if (auto r = set_link(nl, index, true, "", mtu); !r)
    fail("cannot bring {} up (mtu {}): {}", name, mtu, r.text());
}

}  // namespace vmrt::sandbox::network
