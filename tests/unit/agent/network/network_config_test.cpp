// The pod network part of CreateSandbox: what the agent accepts (MACs,
// names, MTUs, addresses, routes), how it translates them into kernel terms
// (families, prefix lengths, scopes, the order routes are added in), and
// which network namespace a container's spec leads to. Every rejection is
// INVALID_ARGUMENT with a message naming the field.
#include "agent/network/network_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/rtnetlink.h>

#include "agent/network/pod_network.h"
#include "tests/support/request_code.h"
#include "tests/unit/agent/network/network_request.h"

namespace vmrt::agent::network {
namespace {

using test::code_of;
using test::request_message;
using ::testing::HasSubstr;

using namespace test_request;

TEST(AgentNetworkConfig, NoInterfacesNoRoutesIsEmpty) {
  EXPECT_TRUE(parse_network(v1::CreateSandboxRequest{}).empty());
}

TEST(AgentNetworkConfig, InterfaceDefaultsAndAddresses) {
  auto r = one_nic("02:00:0A:58:00:FF");
  add_address(r.mutable_interfaces(0), "10.88.0.5", 16);
  add_address(r.mutable_interfaces(0), "fd00::5", 64);
  r.mutable_interfaces(0)->set_mtu(1450);
  NetworkConfig c = parse_network(r);
  ASSERT_EQ(c.interfaces.size(), 1u);
  const Interface& itf = c.interfaces[0];
  EXPECT_EQ(itf.name, "eth0");
  EXPECT_EQ(itf.mac_str(), "02:00:0a:58:00:ff");
  EXPECT_EQ(itf.mtu, 1450u);
  ASSERT_EQ(itf.addresses.size(), 2u);
  EXPECT_EQ(itf.addresses[0].ip.family, AF_INET);
  EXPECT_EQ(itf.addresses[0].ip.str(), "10.88.0.5");
  EXPECT_EQ(itf.addresses[0].prefix_len, 16);
  EXPECT_EQ(itf.addresses[1].ip.family, AF_INET6);
  EXPECT_EQ(itf.addresses[1].ip.str(), "fd00::5");
  EXPECT_EQ(itf.addresses[1].prefix_len, 64);
}

TEST(AgentNetworkConfig, BadMacsAreNamed) {
  EXPECT_EQ(rejection(one_nic("")), "interfaces[0].mac: required (the MAC of the VM's NIC)");
  for (const char* mac : {"02:00:0a:58:00", "02-00-0a-58-00-05", "02:00:0a:58:00:0g",
                          "02:00:0a:58:00:05:", "2:0:a:58:0:5"})
    EXPECT_EQ(rejection(one_nic(mac)), fmt::format("interfaces[0].mac \"{}\": not a MAC address "
                                                   "like 02:00:0a:58:00:05",
                                                   mac));
  EXPECT_EQ(rejection(one_nic("01:00:5e:00:00:01")),
            "interfaces[0].mac 01:00:5e:00:00:01: a multicast address, not a NIC's");
}

TEST(AgentNetworkConfig, BadNamesAndMtusAreNamed) {
  auto r = one_nic();
  r.mutable_interfaces(0)->set_name("a-name-too-long0");
  EXPECT_EQ(rejection(r), "interfaces[0].name \"a-name-too-long0\": must be 1 to 15 bytes");
  r.mutable_interfaces(0)->set_name("a/b");
  EXPECT_THAT(rejection(r), HasSubstr("interfaces[0].name \"a/b\": holds '/'"));
  r.mutable_interfaces(0)->set_name("lo");
  EXPECT_THAT(rejection(r), HasSubstr("\"lo\" is the loopback device"));
  r.mutable_interfaces(0)->set_name("eth0");
  for (uint32_t mtu : {67u, 65536u}) {
    r.mutable_interfaces(0)->set_mtu(mtu);
    EXPECT_EQ(rejection(r), fmt::format("interfaces[0].mtu {}: must be 68 to 65535 (or 0 to keep "
                                        "the NIC's)",
                                        mtu));
  }
}

TEST(AgentNetworkConfig, TwoInterfacesNeedTheirOwnNameAndMac) {
  auto r = one_nic("02:00:00:00:00:01");
  r.add_interfaces()->set_mac("02:00:00:00:00:02");
  EXPECT_EQ(rejection(r), "interfaces[1].name \"eth0\": given to two interfaces");
  r.mutable_interfaces(1)->set_name("eth1");
  r.mutable_interfaces(1)->set_mac("02:00:00:00:00:01");
  EXPECT_EQ(rejection(r), "interfaces[1].mac 02:00:00:00:00:01: given to two interfaces");
  r.mutable_interfaces(1)->set_mac("02:00:00:00:00:02");
  EXPECT_EQ(parse_network(r).interfaces.size(), 2u);
}

TEST(AgentNetworkConfig, BadAddressesAreNamed) {
  auto r = one_nic();
  add_address(r.mutable_interfaces(0), "10.0.0.256", 24);
  EXPECT_EQ(rejection(r),
            "interfaces[0].addresses[0].ip \"10.0.0.256\": not an IPv4 or IPv6 address");
  r.mutable_interfaces(0)->mutable_addresses(0)->set_ip("10.0.0.5/24");
  EXPECT_THAT(rejection(r), HasSubstr("not an IPv4 or IPv6 address"));
  r.mutable_interfaces(0)->mutable_addresses(0)->set_ip("10.0.0.5");
  r.mutable_interfaces(0)->mutable_addresses(0)->set_prefix_len(33);
  EXPECT_EQ(rejection(r),
            "interfaces[0].addresses[0]: prefix_len 33 is out of range for IPv4 (0 to 32)");
  r.mutable_interfaces(0)->mutable_addresses(0)->set_ip("fd00::5");
  r.mutable_interfaces(0)->mutable_addresses(0)->set_prefix_len(129);
  EXPECT_EQ(rejection(r),
            "interfaces[0].addresses[0]: prefix_len 129 is out of range for IPv6 (0 to 128)");
  r.mutable_interfaces(0)->mutable_addresses(0)->set_prefix_len(64);
  add_address(r.mutable_interfaces(0), "fd00::5", 64);
  EXPECT_EQ(rejection(r), "interfaces[0].addresses[1]: fd00::5/64 is given twice");
}

TEST(AgentNetworkConfig, RoutesGetFamilyPrefixAndScope) {
  auto r = one_nic();
  add_route(r, "", "10.88.0.1", "eth0");
  add_route(r, "10.88.0.0/16", "", "eth0");
  add_route(r, "10.96.0.10", "10.88.0.1", "");
  add_route(r, "::/0", "fe80::1", "eth0");
  add_route(r, "192.168.0.0/24", "", "lo")->set_scope(RT_SCOPE_HOST);
  NetworkConfig c = parse_network(r);
  ASSERT_EQ(c.routes.size(), 5u);
  // Device routes first, each group in the request's order.
  EXPECT_EQ(c.routes[0].str(), "10.88.0.0/16 dev eth0");
  EXPECT_EQ(c.routes[0].scope, RT_SCOPE_LINK);
  EXPECT_EQ(c.routes[1].str(), "192.168.0.0/24 dev lo");
  EXPECT_EQ(c.routes[1].scope, RT_SCOPE_HOST);
  EXPECT_EQ(c.routes[2].str(), "default via 10.88.0.1 dev eth0");
  EXPECT_EQ(c.routes[2].family, AF_INET);
  EXPECT_EQ(c.routes[2].prefix_len, 0);
  EXPECT_EQ(c.routes[2].scope, RT_SCOPE_UNIVERSE);
  EXPECT_EQ(c.routes[3].str(), "10.96.0.10/32 via 10.88.0.1");
  EXPECT_EQ(c.routes[4].str(), "default (IPv6) via fe80::1 dev eth0");
  EXPECT_EQ(c.routes[4].family, AF_INET6);
}

TEST(AgentNetworkConfig, DefaultRouteFamilyFromTheSource) {
  auto r = one_nic();
  add_route(r, "", "", "eth0")->set_source("fd00::5");
  NetworkConfig c = parse_network(r);
  EXPECT_EQ(c.routes[0].family, AF_INET6);
  EXPECT_EQ(c.routes[0].str(), "default (IPv6) dev eth0 src fd00::5");
}

TEST(AgentNetworkConfig, BadRoutesAreNamed) {
  auto bad = [](const std::string& dst, const std::string& gw, const std::string& dev) {
    auto r = one_nic();
    add_route(r, "10.88.0.0/16", "", "eth0");
    add_route(r, dst, gw, dev);
    return rejection(r);
  };
  EXPECT_EQ(bad("10.0.0.0/33", "", "eth0"),
            "routes[1].destination \"10.0.0.0/33\": prefix_len 33 is out of range for IPv4 (0 "
            "to 32)");
  EXPECT_EQ(bad("10.0.0.0/x", "", "eth0"),
            "routes[1].destination \"10.0.0.0/x\": the prefix length must be a number");
  EXPECT_EQ(bad("10.0.0.0/", "", "eth0"),
            "routes[1].destination \"10.0.0.0/\": the prefix length must be a number");
  EXPECT_EQ(bad("10.0.0.1/24", "", "eth0"),
            "routes[1].destination \"10.0.0.1/24\": has bits set beyond the prefix length");
  EXPECT_EQ(bad("10.1.0.0/16", "", "eth9"),
            "routes[1].device \"eth9\": unknown device (not lo nor one of the interfaces)");
  EXPECT_EQ(bad("10.1.0.0/16", "", ""), "routes[1]: needs a device or a gateway");
  EXPECT_EQ(bad("10.1.0.0/16", "fe80::1", "eth0"),
            "routes[1].gateway fe80::1: IPv6 for an IPv4 destination");
  EXPECT_EQ(bad("10.1.0.0/16", "10.88.0.1/32", "eth0"),
            "routes[1].gateway \"10.88.0.1/32\": not an IPv4 or IPv6 address");
  EXPECT_THAT(bad("", "", "eth0"),
              HasSubstr("routes[1].destination: empty (a default route) needs a gateway"));
  auto r = one_nic();
  add_route(r, "", "10.88.0.1", "eth0")->set_scope(256);
  EXPECT_EQ(rejection(r), "routes[0].scope 256: must be 0 to 255");
  auto s = one_nic();
  add_route(s, "", "10.88.0.1", "eth0")->set_source("fd00::1");
  EXPECT_EQ(rejection(s), "routes[0].source fd00::1: IPv6 for an IPv4 destination");
}

TEST(AgentNetworkConfig, RoutesMayUseLoWithoutInterfaces) {
  v1::CreateSandboxRequest r;
  add_route(r, "127.0.0.0/8", "", "lo");
  EXPECT_EQ(parse_network(r).routes.size(), 1u);
}

TEST(AgentPodNetwork, APathJoinsTheAgentsNamespaceNoPathStaysNew) {
  oci::Spec spec;
  spec.linux.namespaces = {{"pid", ""},
                           {"network", "/var/run/netns/cni-1234"},
                           {"ipc", "/proc/7/ns/ipc"},
                           {"mount", ""}};
  join_pod_network(spec);
  EXPECT_EQ(spec.linux.namespaces[1].path, "/proc/self/ns/net");
  EXPECT_EQ(spec.linux.namespaces[2].path, "/proc/7/ns/ipc");  // not the network's business
  spec.linux.namespaces[1].path = "";
  join_pod_network(spec);
  EXPECT_EQ(spec.linux.namespaces[1].path, "");  // a new empty namespace, as runc makes
  spec.linux.namespaces.erase(spec.linux.namespaces.begin() + 1);
  join_pod_network(spec);
  EXPECT_EQ(spec.linux.namespaces.size(), 3u);  // none: the agent's own, no entry added
}

}  // namespace
}  // namespace vmrt::agent::network
