// The pod network request for dual-stack and IPv6-only pods: IPv6
// addresses and routes (link-local gateways, metrics) are taken as given,
// and a hostile request (non-unicast addresses, link-local gateways with no
// link, too many of anything) is refused before anything is configured.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/network/network_config.h"
#include "tests/support/request_code.h"
#include "tests/unit/agent/network/network_request.h"

namespace vmrt::agent::network {
namespace {

using test::code_of;
using test::request_message;
using ::testing::HasSubstr;

using namespace test_request;

// `ip`/`len` on the request's first interface.
void add_address(v1::CreateSandboxRequest& r, const std::string& ip, uint32_t len) {
  test_request::add_address(r.mutable_interfaces(0), ip, len);
}

// What the shim reads from a dual-stack CNI bridge pod, in the order of
// its dumps.
TEST(AgentNetworkIpv6, ADualStackPodsRequest) {
  auto r = one_nic();
  add_address(r, "10.89.0.5", 24);
  add_address(r, "fd89::5", 64);
  add_route(r, "", "10.89.0.1", "eth0");
  add_route(r, "10.89.0.0/24", "", "eth0")->set_source("10.89.0.5");
  add_route(r, "fd89::/64", "", "eth0")->set_metric(256);
  add_route(r, "::/0", "fd89::1", "eth0")->set_metric(1024);
  NetworkConfig c = parse_network(r);
  ASSERT_EQ(c.interfaces[0].addresses.size(), 2u);
  EXPECT_EQ(c.interfaces[0].addresses[1].ip.family, AF_INET6);
  EXPECT_EQ(c.interfaces[0].addresses[1].prefix_len, 64);
  ASSERT_EQ(c.routes.size(), 4u);
  EXPECT_EQ(c.routes[0].str(), "10.89.0.0/24 dev eth0 src 10.89.0.5");
  EXPECT_EQ(c.routes[1].str(), "fd89::/64 dev eth0 metric 256");
  EXPECT_EQ(c.routes[1].family, AF_INET6);
  EXPECT_EQ(c.routes[1].metric, 256u);
  EXPECT_EQ(c.routes[2].str(), "default via 10.89.0.1 dev eth0");
  EXPECT_EQ(c.routes[3].str(), "default (IPv6) via fd89::1 dev eth0 metric 1024");
}

TEST(AgentNetworkIpv6, AnIpv6OnlyPodsRequest) {
  auto r = one_nic();
  add_address(r, "fd89::7", 64);
  add_route(r, "", "fd89::1", "eth0");  // the family follows from the gateway
  NetworkConfig c = parse_network(r);
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].family, AF_INET6);
  EXPECT_EQ(c.routes[0].prefix_len, 0);
  EXPECT_EQ(c.routes[0].destination.family, AF_INET6);
}

TEST(AgentNetworkIpv6, ALinkLocalGatewayNeedsItsLink) {
  auto r = one_nic();
  add_address(r, "fd89::7", 64);
  add_route(r, "::/0", "fe80::1", "eth0");
  EXPECT_EQ(parse_network(r).routes[0].str(), "default (IPv6) via fe80::1 dev eth0");
  r.mutable_routes(0)->set_device("");
  EXPECT_EQ(rejection(r), "routes[0].gateway fe80::1: a link-local gateway needs a device");
  r.mutable_routes(0)->set_gateway("febf::1");  // still fe80::/10
  EXPECT_THAT(rejection(r), HasSubstr("a link-local gateway needs a device"));
  r.mutable_routes(0)->set_gateway("fec0::1");  // just past it
  EXPECT_EQ(code_of([&] { parse_network(r); }), Code::Ok);
}

TEST(AgentNetworkIpv6, AddressesAndGatewaysAreUnicast) {
  for (const char* ip : {"::", "ff02::1", "0.0.0.0", "224.0.0.1", "239.1.2.3"}) {
    auto r = one_nic();
    add_address(r, ip, 8);
    EXPECT_EQ(rejection(r),
              fmt::format("interfaces[0].addresses[0].ip {}: not a unicast address", ip));
  }
  auto g = one_nic();
  add_route(g, "::/0", "ff02::2", "eth0");
  EXPECT_EQ(rejection(g), "routes[0].gateway ff02::2: not a unicast address");
  auto s = one_nic();
  add_route(s, "fd00::/8", "", "eth0")->set_source("::");
  EXPECT_EQ(rejection(s), "routes[0].source ::: not a unicast address");
}

TEST(AgentNetworkIpv6, PrefixLengthsAreChecked) {
  auto r = one_nic();
  add_address(r, "fd89::7", 128);
  EXPECT_EQ(parse_network(r).interfaces[0].addresses[0].prefix_len, 128);
  r.mutable_interfaces(0)->mutable_addresses(0)->set_prefix_len(0xffffffffu);
  EXPECT_EQ(rejection(r),
            "interfaces[0].addresses[0]: prefix_len 4294967295 is out of range for IPv6 (0 to "
            "128)");
  auto d = one_nic();
  add_route(d, "fd00::/129", "", "eth0");
  EXPECT_THAT(rejection(d), HasSubstr("prefix_len 129 is out of range for IPv6"));
  add_route(d, "fd00::/1000", "", "eth0");
  d.mutable_routes()->DeleteSubrange(0, 1);
  EXPECT_THAT(rejection(d), HasSubstr("the prefix length must be a number"));
  auto h = one_nic();
  add_route(h, "fd00::1/64", "", "eth0");
  EXPECT_THAT(rejection(h), HasSubstr("has bits set beyond the prefix length"));
}

TEST(AgentNetworkIpv6, TooManyOfAnythingIsRefused) {
  auto r = one_nic();
  for (int i = 0; i <= kMaxAddresses; ++i) add_address(r, fmt::format("fd89::{:x}", i + 1), 64);
  EXPECT_EQ(rejection(r), fmt::format("interfaces[0].addresses: {} given, at most {}",
                                      kMaxAddresses + 1, kMaxAddresses));
  r.mutable_interfaces(0)->mutable_addresses()->RemoveLast();
  EXPECT_EQ(parse_network(r).interfaces[0].addresses.size(), size_t(kMaxAddresses));

  auto routes = one_nic();
  for (int i = 0; i <= kMaxRoutes; ++i)
    add_route(routes, fmt::format("fd00:{:x}::/32", i), "", "eth0");
  EXPECT_EQ(rejection(routes),
            fmt::format("routes: {} given, at most {}", kMaxRoutes + 1, kMaxRoutes));

  v1::CreateSandboxRequest nics;
  for (int i = 0; i <= kMaxInterfaces; ++i) {
    auto* itf = nics.add_interfaces();
    itf->set_name(fmt::format("eth{}", i));
    itf->set_mac(fmt::format("02:00:00:00:00:{:02x}", i));
  }
  EXPECT_EQ(rejection(nics),
            fmt::format("interfaces: {} given, at most {}", kMaxInterfaces + 1, kMaxInterfaces));
}

}  // namespace
}  // namespace vmrt::agent::network
