#include "sandbox/network/rtnl_links.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include "common/error.h"

namespace vmrt::sandbox::network {
namespace {

// The text of address attribute `a` of `family`, "" when its size is not
// that family's.
std::string ip_text(int family, std::span<const uint8_t> a) {
  size_t size = family == AF_INET6 ? 16 : 4;
  if (a.size() != size) return {};
  char text[INET6_ADDRSTRLEN];
  ::inet_ntop(family, a.data(), text, sizeof text);
  return text;
}

std::optional<uint32_t> u32(std::span<const uint8_t> a) {
  if (a.size() != 4) return std::nullopt;
  uint32_t v;
  std::memcpy(&v, a.data(), 4);
  return v;
}

bool is_ip_family(int family) { return family == AF_INET || family == AF_INET6; }

}  // namespace

std::optional<AddressInfo> parse_address(const nlmsghdr& m) {
  if (m.nlmsg_type != RTM_NEWADDR || m.nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) return {};
  const auto* a = static_cast<const ifaddrmsg*>(NLMSG_DATA(&m));
  if (!is_ip_family(a->ifa_family)) return {};
  auto attrs = parse_attributes(m, sizeof(ifaddrmsg), IFA_MAX);
  // IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer's on
  // point-to-point links); IPv6 gives only IFA_ADDRESS.
  auto addr = attrs[IFA_LOCAL].empty() ? attrs[IFA_ADDRESS] : attrs[IFA_LOCAL];
  AddressInfo out;
  out.family = a->ifa_family;
  out.index = static_cast<int>(a->ifa_index);
  out.ip = ip_text(a->ifa_family, addr);
  if (out.ip.empty()) return {};
  out.prefix_len = a->ifa_prefixlen;
  out.scope = a->ifa_scope;
  // IFA_FLAGS holds the flags beyond the header's eight bits.
  out.flags = u32(attrs[IFA_FLAGS]).value_or(a->ifa_flags);
  return out;
}

std::optional<RouteInfo> parse_route(const nlmsghdr& m) {
  if (m.nlmsg_type != RTM_NEWROUTE || m.nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) return {};
  const auto* r = static_cast<const rtmsg*>(NLMSG_DATA(&m));
  if (!is_ip_family(r->rtm_family)) return {};
  auto attrs = parse_attributes(m, sizeof(rtmsg), RTA_MAX);
  RouteInfo route;
  route.family = r->rtm_family;
  route.table = u32(attrs[RTA_TABLE]).value_or(r->rtm_table);
  route.type = r->rtm_type;
  route.oif = static_cast<int>(u32(attrs[RTA_OIF]).value_or(0));
  if (r->rtm_dst_len > 0) {
    std::string dst = ip_text(r->rtm_family, attrs[RTA_DST]);
    if (dst.empty()) return {};
    route.destination = fmt::format("{}/{}", dst, r->rtm_dst_len);
  }
  route.gateway = ip_text(r->rtm_family, attrs[RTA_GATEWAY]);
  route.source = ip_text(r->rtm_family, attrs[RTA_PREFSRC]);
  route.scope = r->rtm_scope;
  route.metric = u32(attrs[RTA_PRIORITY]).value_or(0);
  return route;
}

std::vector<AddressInfo> list_addresses(Netlink& nl) {
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_UNSPEC;
  auto req = NetlinkRequest::make(RTM_GETADDR, 0, ifa);
  std::vector<AddressInfo> out;
  nl.dump(req, [&](const nlmsghdr& m) {
    if (auto a = parse_address(m)) out.push_back(std::move(*a));
  });
  return out;
}

std::vector<RouteInfo> list_routes(Netlink& nl) {
  // AF_UNSPEC, not one dump per family: a host without IPv6 refuses an
  // AF_INET6 dump, and gives the IPv4 routes alone this way.
  rtmsg rt{};
  rt.rtm_family = AF_UNSPEC;
  auto req = NetlinkRequest::make(RTM_GETROUTE, 0, rt);
  std::vector<RouteInfo> out;
  nl.dump(req, [&](const nlmsghdr& m) {
    if (auto r = parse_route(m)) out.push_back(std::move(*r));
  });
  return out;
}

void set_link_up(Netlink& nl, int index, uint32_t mtu, const std::string& name) {
  if (auto r = set_link(nl, index, true, "", mtu); !r)
    fail("cannot bring {} up (mtu {}): {}", name, mtu, r.text());
}

}  // namespace vmrt::sandbox::network
