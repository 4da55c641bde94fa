// The pod's network as the guest gets it: rtnetlink dump messages of a
// dual-stack or IPv6-only CNI pod namespace read into addresses and routes,
// and the choice of what of them the VM takes over (global addresses of both
// families, the main table's routes through the pod's interface, link-local
// gateways; not what the guest kernel makes itself), within the agent's
// bounds.
#include "sandbox/network/guest_network.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>

#include "common/error.h"

namespace vmrt::sandbox::network {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> ip_bytes(int family, const std::string& text) {
  std::vector<uint8_t> b(family == AF_INET6 ? 16 : 4);
  EXPECT_EQ(::inet_pton(family, text.c_str(), b.data()), 1) << text;
  return b;
}

NetlinkRequest address_message(int family, int index, const std::string& ip, uint8_t len,
                               uint8_t scope = RT_SCOPE_UNIVERSE, uint32_t flags = 0) {
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<uint8_t>(family);
  ifa.ifa_index = static_cast<uint32_t>(index);
  ifa.ifa_prefixlen = len;
  ifa.ifa_scope = scope;
  auto m = NetlinkRequest::make(RTM_NEWADDR, 0, ifa);
  auto b = ip_bytes(family, ip);
  m.put(IFA_ADDRESS, b.data(), b.size());
  if (flags) m.put_u32(IFA_FLAGS, flags);
  return m;
}

struct RouteSpec {
  int family = AF_INET6;
  std::string dst;  // "ADDR/LEN" or "" for default
  std::string gw;
  int oif = 2;
  uint32_t metric = 0;
  uint8_t table = RT_TABLE_MAIN;
  uint8_t type = RTN_UNICAST;
};

NetlinkRequest route_message(const RouteSpec& s) {
  rtmsg rt{};
  rt.rtm_family = static_cast<uint8_t>(s.family);
  rt.rtm_table = s.table;
  rt.rtm_type = s.type;
  std::vector<uint8_t> dst;
  if (!s.dst.empty()) {
    size_t slash = s.dst.find('/');
    dst = ip_bytes(s.family, s.dst.substr(0, slash));
    rt.rtm_dst_len = static_cast<uint8_t>(std::stoi(s.dst.substr(slash + 1)));
  }
  auto m = NetlinkRequest::make(RTM_NEWROUTE, 0, rt);
  if (!dst.empty()) m.put(RTA_DST, dst.data(), dst.size());
  if (!s.gw.empty()) {
    auto gw = ip_bytes(s.family, s.gw);
    m.put(RTA_GATEWAY, gw.data(), gw.size());
  }
  m.put_u32(RTA_OIF, static_cast<uint32_t>(s.oif));
  if (s.metric) m.put_u32(RTA_PRIORITY, s.metric);
  m.put_u32(RTA_TABLE, s.table);
  return m;
}

AddressInfo address(NetlinkRequest m) {
  auto a = parse_address(*m.header());
  EXPECT_TRUE(a.has_value());
  return a.value_or(AddressInfo{});
}

RouteInfo route(const RouteSpec& s) {
  auto m = route_message(s);
  auto r = parse_route(*m.header());
  EXPECT_TRUE(r.has_value()) << s.dst;
  return r.value_or(RouteInfo{});
}

NetlinkLink veth() {
  NetlinkLink l;
  l.index = 2;
  l.name = "eth0";
  l.kind = "veth";
  l.mac = {0x02, 0x00, 0x0a, 0x59, 0x00, 0x05};
  l.flags = IFF_UP;
  l.type = ARPHRD_ETHER;
  l.mtu = 1500;
  return l;
}

TEST(GuestNetworkParse, Ipv6AddressesKeepPrefixScopeAndFlags) {
  AddressInfo a = address(address_message(AF_INET6, 2, "fd89::5", 64, RT_SCOPE_UNIVERSE,
                                          IFA_F_NODAD | IFA_F_PERMANENT));
  EXPECT_EQ(a.family, AF_INET6);
  EXPECT_EQ(a.index, 2);
  EXPECT_EQ(a.ip, "fd89::5");
  EXPECT_EQ(a.prefix_len, 64u);
  EXPECT_EQ(a.flags, uint32_t(IFA_F_NODAD | IFA_F_PERMANENT));
  AddressInfo v4 = address(address_message(AF_INET, 2, "10.89.0.5", 24));
  EXPECT_EQ(v4.family, AF_INET);
  EXPECT_EQ(v4.ip, "10.89.0.5");
}

TEST(GuestNetworkParse, Ipv6RoutesKeepGatewayAndMetric) {
  RouteInfo r = route({AF_INET6, "", "fe80::1", 2, 1024});
  EXPECT_EQ(r.family, AF_INET6);
  EXPECT_EQ(r.destination, "");
  EXPECT_EQ(r.gateway, "fe80::1");
  EXPECT_EQ(r.metric, 1024u);
  EXPECT_EQ(r.oif, 2);
  EXPECT_EQ(route({AF_INET6, "fd89::/64", "", 2, 256}).destination, "fd89::/64");
}

TEST(GuestNetworkParse, MalformedMessagesAreSkipped) {
  // An IPv6 family with a 4-byte address, an unknown family, a short message.
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET6;
  auto m = NetlinkRequest::make(RTM_NEWADDR, 0, ifa);
  m.put_u32(IFA_ADDRESS, 0x0100000a);
  EXPECT_FALSE(parse_address(*m.header()));
  ifa.ifa_family = AF_PACKET;
  auto other = NetlinkRequest::make(RTM_NEWADDR, 0, ifa);
  EXPECT_FALSE(parse_address(*other.header()));
  auto shortm = NetlinkRequest::make(RTM_NEWADDR, 0, uint16_t{AF_INET6});
  EXPECT_FALSE(parse_address(*shortm.header()));
  // A route whose destination has the other family's size.
  rtmsg rt{};
  rt.rtm_family = AF_INET6;
  rt.rtm_dst_len = 64;
  auto bad_dst = NetlinkRequest::make(RTM_NEWROUTE, 0, rt);
  bad_dst.put_u32(RTA_DST, 0x0100000a);
  EXPECT_FALSE(parse_route(*bad_dst.header()));
  // IPMR's family (128): multicast routing, not the guest's.
  rt.rtm_family = 128;
  rt.rtm_dst_len = 0;
  auto ipmr = NetlinkRequest::make(RTM_NEWROUTE, 0, rt);
  EXPECT_FALSE(parse_route(*ipmr.header()));
}

// What CNI's bridge plugin leaves in a dual-stack pod: both families'
// addresses, the kernel's prefix and link-local routes, default routes of
// both families, and the local table's routes.
TEST(GuestNetwork, ADualStackPodGetsBothFamilies) {
  std::vector<AddressInfo> addrs = {
      address(address_message(AF_INET, 1, "127.0.0.1", 8, RT_SCOPE_HOST)),
      address(address_message(AF_INET, 2, "10.89.0.5", 24)),
      address(address_message(AF_INET6, 2, "fd89::5", 64)),
      address(address_message(AF_INET6, 2, "fe80::a:59ff:fe00:5", 64, RT_SCOPE_LINK)),
      address(address_message(AF_INET6, 2, "2001:db8::99", 64, RT_SCOPE_UNIVERSE, IFA_F_TEMPORARY)),
      address(address_message(AF_INET6, 2, "fd89::6", 64, RT_SCOPE_UNIVERSE, IFA_F_DADFAILED)),
      address(address_message(AF_INET6, 3, "fd90::5", 64)),  // another link
  };
  std::vector<RouteInfo> routes = {
      route({AF_INET, "", "10.89.0.1", 2}),
      route({AF_INET, "10.89.0.0/24", "", 2}),
      route({AF_INET6, "fd89::/64", "", 2, 256}),
      route({AF_INET6, "fe80::/64", "", 2, 256}),
      route({AF_INET6, "", "fd89::1", 2, 1024}),
      route({AF_INET6, "fd89::5/128", "", 2, 0, RT_TABLE_LOCAL, RTN_LOCAL}),
      route({AF_INET6, "ff00::/8", "", 2, 256, RT_TABLE_LOCAL, RTN_MULTICAST}),
      route({AF_INET6, "fd90::/64", "", 3, 256}),
  };
  PodNetwork n = guest_network(veth(), addrs, routes);
  ASSERT_EQ(n.interfaces.size(), 1u);
  const PodInterface& itf = n.interfaces[0];
  EXPECT_EQ(itf.name, "eth0");
  EXPECT_EQ(itf.mac, "02:00:0a:59:00:05");
  EXPECT_EQ(itf.mtu, 1500u);
  ASSERT_EQ(itf.addresses.size(), 2u);
  EXPECT_EQ(itf.addresses[0].ip, "10.89.0.5");
  EXPECT_EQ(itf.addresses[0].prefix_len, 24u);
  EXPECT_EQ(itf.addresses[1].ip, "fd89::5");
  EXPECT_EQ(itf.addresses[1].prefix_len, 64u);
  std::vector<std::string> got;
  for (const PodRoute& r : n.routes)
    got.push_back(fmt::format("{}|{}|{}|{}", r.destination, r.gateway, r.device, r.metric));
  EXPECT_EQ(got, (std::vector<std::string>{"|10.89.0.1|eth0|0", "10.89.0.0/24||eth0|0",
                                           "fd89::/64||eth0|256", "|fd89::1|eth0|1024"}));
}

TEST(GuestNetwork, AnIpv6OnlyPodWithALinkLocalGateway) {
  std::vector<NetlinkLink> links = {veth()};
  NetlinkLink lo;
  lo.index = 1;
  lo.name = "lo";
  lo.type = ARPHRD_LOOPBACK;
  lo.flags = IFF_UP;
  NetlinkLink other = veth();
  other.index = 3;
  other.name = "net1";
  links.insert(links.begin(), {lo, other});
  std::vector<RouteInfo> routes = {route({AF_INET6, "fd89::/64", "", 2, 256}),
                                   route({AF_INET6, "", "fe80::1", 2, 1024})};
  // The interface with the (IPv6) default route, not the first one up.
  const NetlinkLink* chosen = choose_pod_interface(links, routes);
  ASSERT_NE(chosen, nullptr);
  EXPECT_EQ(chosen->name, "eth0");
  PodNetwork n =
      guest_network(*chosen, {address(address_message(AF_INET6, 2, "fd89::7", 64))}, routes);
  ASSERT_EQ(n.interfaces[0].addresses.size(), 1u);
  EXPECT_EQ(n.interfaces[0].addresses[0].ip, "fd89::7");
  ASSERT_EQ(n.routes.size(), 2u);
  EXPECT_EQ(n.routes[1].gateway, "fe80::1");
  EXPECT_EQ(n.routes[1].device, "eth0");
}

TEST(GuestNetwork, MoreThanTheAgentTakesIsRefused) {
  std::vector<AddressInfo> addrs;
  for (size_t i = 0; i <= kMaxGuestAddresses; ++i)
    addrs.push_back(address(address_message(AF_INET6, 2, fmt::format("fd89::{:x}", i + 1), 64)));
  try {
    guest_network(veth(), addrs, {});
    ADD_FAILURE() << "accepted " << addrs.size() << " addresses";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("interface eth0 has 33 addresses, a VM takes at most 32"));
  }
  addrs.pop_back();
  EXPECT_EQ(guest_network(veth(), addrs, {}).interfaces[0].addresses.size(), kMaxGuestAddresses);

  std::vector<RouteInfo> routes;
  for (size_t i = 0; i <= kMaxGuestRoutes; ++i)
    routes.push_back(route({AF_INET6, fmt::format("fd00:{:x}::/32", i), "", 2, 256}));
  EXPECT_THROW(guest_network(veth(), {}, routes), Error);
}

}  // namespace
}  // namespace vmrt::sandbox::network
