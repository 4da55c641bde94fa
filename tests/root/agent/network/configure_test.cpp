// The agent's pod network setup on the host, in a scratch network namespace
// with a veth standing in for the VM's virtio-net NIC: the NIC found by its
// MAC is renamed, gets its MTU, addresses and up state, lo comes up, the
// routes (a default route via a gateway among them) are in the main table;
// refusals name the interface, address or route with the kernel's words and
// leave the namespace as it was; the destructor undoes it all.
#include "agent/network/configure.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "agent/network/network_config.h"
#include "tests/support/request_code.h"
#include "tests/support/scratch_netns.h"

namespace vmrt::agent::test {
namespace {

using vmrt::test::ScratchNetns;

using network::NetworkSetup;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using vmrt::test::code_of;
using vmrt::test::request_message;

constexpr const char* kMac = "02:00:0a:58:00:05";

v1::CreateSandboxRequest pod_network() {
  v1::CreateSandboxRequest r;
  auto* itf = r.add_interfaces();
  itf->set_mac(kMac);
  itf->set_mtu(1400);
  for (auto [ip, len] : {std::pair{"10.88.0.5", 16u}, {"fd00::5", 64u}}) {
    auto* a = itf->add_addresses();
    a->set_ip(ip);
    a->set_prefix_len(len);
  }
  auto route = [&](const char* dst, const char* gw, const char* dev) {
    auto* rt = r.add_routes();
    rt->set_destination(dst);
    rt->set_gateway(gw);
    rt->set_device(dev);
    return rt;
  };
  // Given gateway routes first: the agent adds device routes before them.
  route("", "10.88.0.1", "eth0");
  route("10.96.0.0/12", "10.88.0.1", "eth0")->set_source("10.88.0.5");
  route("", "fd00::1", "eth0");
  route("192.168.7.0/24", "", "eth0");
  return r;
}

class AgentNetworkSetup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ns_.emplace();
    // A veth with a known MAC plays the VM's NIC; its peer is up so that
    // it has a carrier.
    ns_->ip({"link", "add", "nic0", "address", kMac, "type", "veth", "peer", "name", "peer0"});
    ns_->ip({"link", "set", "peer0", "up"});
    ns_->enter();
  }
  void TearDown() override { ns_.reset(); }

  json link(const std::string& name) { return ns_->ip_json({"link", "show", "dev", name})[0]; }
  bool link_exists(const std::string& name) {
    for (const json& l : ns_->ip_json({"link", "show"}))
      if (l["ifname"] == name) return true;
    return false;
  }
  bool is_up(const std::string& name) {
    json flags = link(name)["flags"];
    return std::find(flags.begin(), flags.end(), "UP") != flags.end();
  }
  // "ADDR/LEN" of the link's global addresses.
  std::vector<std::string> addresses(const std::string& name) {
    std::vector<std::string> out;
    json info = ns_->ip_json({"addr", "show", "dev", name})[0]["addr_info"];
    for (const json& a : info)
      if (a["scope"] == "global")
        out.push_back(a["local"].get<std::string>() + "/" +
                      std::to_string(a["prefixlen"].get<int>()));
    return out;
  }
  // "DST via GW dev DEV" of the main table's routes of one family, except
  // the kernel's own (prefix routes, IPv6 link-local).
  std::vector<std::string> routes(const char* family) {
    std::vector<std::string> out;
    for (const json& r : ns_->ip_json({family, "route", "show", "table", "main"})) {
      if (r.value("protocol", "") == "kernel") continue;
      std::string s = r["dst"].get<std::string>();
      if (r.contains("gateway")) s += " via " + r["gateway"].get<std::string>();
      s += " dev " + r["dev"].get<std::string>();
      if (r.contains("prefsrc")) s += " src " + r["prefsrc"].get<std::string>();
      out.push_back(s);
    }
    return out;
  }
  void expect_untouched() {
    EXPECT_TRUE(link_exists("nic0"));
    EXPECT_FALSE(link_exists("eth0"));
    EXPECT_FALSE(is_up("nic0"));
    EXPECT_EQ(link("nic0")["mtu"], 1500);
    EXPECT_THAT(addresses("nic0"), ::testing::IsEmpty());
    EXPECT_THAT(routes("-4"), ::testing::IsEmpty());
    EXPECT_THAT(routes("-6"), ::testing::IsEmpty());
  }

  std::optional<ScratchNetns> ns_;
};

TEST_F(AgentNetworkSetup, ConfiguresTheNicFoundByMacAndItsRoutes) {
  EXPECT_FALSE(is_up("lo"));
  {
    NetworkSetup setup(network::parse_network(pod_network()));
    EXPECT_FALSE(link_exists("nic0"));
    json eth0 = link("eth0");
    EXPECT_EQ(eth0["address"], kMac);
    EXPECT_EQ(eth0["mtu"], 1400);
    EXPECT_TRUE(is_up("eth0"));
    EXPECT_TRUE(is_up("lo"));
    EXPECT_THAT(addresses("eth0"), UnorderedElementsAre("10.88.0.5/16", "fd00::5/64"));
    EXPECT_THAT(routes("-4"),
                UnorderedElementsAre("default via 10.88.0.1 dev eth0",
                                     "10.96.0.0/12 via 10.88.0.1 dev eth0 src 10.88.0.5",
                                     "192.168.7.0/24 dev eth0"));
    EXPECT_THAT(routes("-6"), UnorderedElementsAre("default via fd00::1 dev eth0"));
    // The device route is link-scoped, as `ip route add` makes it.
    json r = ns_->ip_json({"-4", "route", "show", "192.168.7.0/24"})[0];
    EXPECT_EQ(r["scope"], "link");
  }
  // Gone with the setup (lo stays up: every namespace wants it).
  expect_untouched();
}

TEST_F(AgentNetworkSetup, ANicAlreadyNamedRightIsConfiguredInPlace) {
  ns_->ip({"link", "set", "nic0", "name", "eth0"});
  ns_->ip({"link", "set", "eth0", "up"});
  auto req = pod_network();
  req.mutable_interfaces(0)->set_mtu(0);  // keep
  NetworkSetup setup(network::parse_network(req));
  EXPECT_EQ(link("eth0")["mtu"], 1500);
  EXPECT_TRUE(is_up("eth0"));
  EXPECT_EQ(routes("-4").size(), 3u);
}

TEST_F(AgentNetworkSetup, AnUpNicIsBroughtDownToBeRenamed) {
  ns_->ip({"link", "set", "nic0", "up"});
  v1::CreateSandboxRequest req;
  req.add_interfaces()->set_mac(kMac);
  {
    NetworkSetup setup(network::parse_network(req));
    EXPECT_TRUE(is_up("eth0"));
  }
  EXPECT_TRUE(is_up("nic0"));  // as it was
}

TEST_F(AgentNetworkSetup, ARestoredNicFoundByItsCurrentMacGetsThePodsMac) {
  // A VM restored from a template: its NIC has the template's MAC, and
  // the pod's is asked for.
  ns_->ip({"link", "set", "nic0", "up"});
  auto req = pod_network();
  req.mutable_interfaces(0)->set_mac("02:00:0a:58:00:77");
  req.mutable_interfaces(0)->set_current_mac(kMac);
  {
    NetworkSetup setup(network::parse_network(req));
    EXPECT_EQ(link("eth0")["address"], "02:00:0a:58:00:77");
    EXPECT_TRUE(is_up("eth0"));
    EXPECT_THAT(addresses("eth0"), UnorderedElementsAre("10.88.0.5/16", "fd00::5/64"));
  }
  // Undone: the template's MAC and name again, up as it was.
  EXPECT_EQ(link("nic0")["address"], kMac);
  EXPECT_TRUE(is_up("nic0"));
}

TEST_F(AgentNetworkSetup, UnknownMacIsNotFoundAndNamesTheLinks) {
  v1::CreateSandboxRequest req;
  req.add_interfaces()->set_mac("02:00:00:00:00:99");
  auto config = network::parse_network(req);
  EXPECT_EQ(code_of([&] { NetworkSetup s(config); }), Code::NotFound);
  std::string err = request_message([&] { NetworkSetup s(config); });
  EXPECT_THAT(err, HasSubstr("interface eth0: no link has MAC 02:00:00:00:00:99 (links: lo"));
  EXPECT_THAT(err, HasSubstr("nic0 (02:00:0a:58:00:05)"));
  expect_untouched();
}

TEST_F(AgentNetworkSetup, UnreachableGatewayNamesTheRouteAndUndoesEverything) {
  auto req = pod_network();
  auto* rt = req.add_routes();
  rt->set_destination("10.200.0.0/16");
  rt->set_gateway("192.168.99.1");  // on no link
  rt->set_device("eth0");
  auto config = network::parse_network(req);
  EXPECT_EQ(code_of([&] { NetworkSetup s(config); }), Code::InvalidArgument);
  std::string err = request_message([&] { NetworkSetup s(config); });
  EXPECT_THAT(err,
              HasSubstr("route 10.200.0.0/16 via 192.168.99.1 dev eth0: Network is unreachable"));
  expect_untouched();
}

TEST_F(AgentNetworkSetup, ANameTakenByAnotherLinkIsAlreadyExists) {
  ns_->ip({"link", "add", "eth0", "type", "veth", "peer", "name", "peer1"});
  v1::CreateSandboxRequest req;
  auto* itf = req.add_interfaces();
  itf->set_mac(kMac);
  itf->add_addresses()->set_ip("10.88.0.5");
  itf->mutable_addresses(0)->set_prefix_len(16);
  auto config = network::parse_network(req);
  EXPECT_EQ(code_of([&] { NetworkSetup s(config); }), Code::AlreadyExists);
  EXPECT_EQ(request_message([&] { NetworkSetup s(config); }),
            "interface eth0 (02:00:0a:58:00:05): rename nic0 to eth0: File exists");
  EXPECT_TRUE(link_exists("nic0"));
  EXPECT_THAT(addresses("nic0"), ::testing::IsEmpty());
}

TEST_F(AgentNetworkSetup, AnAddressTheKernelRefusesNamesTheInterfaceAndAddress) {
  auto req = pod_network();
  // Below 1280 the link has no IPv6: its address cannot be added.
  req.mutable_interfaces(0)->set_mtu(1000);
  auto config = network::parse_network(req);
  std::string err = request_message([&] { NetworkSetup s(config); });
  EXPECT_THAT(err, HasSubstr("interface eth0 (02:00:0a:58:00:05): add address fd00::5/64: "));
  EXPECT_EQ(code_of([&] { NetworkSetup s(config); }), Code::InvalidArgument);
  expect_untouched();
}

TEST_F(AgentNetworkSetup, AppliedAgainAfterUndoItWorks) {
  auto config = network::parse_network(pod_network());
  { NetworkSetup first(config); }
  NetworkSetup second(config);
  EXPECT_THAT(addresses("eth0"), UnorderedElementsAre("10.88.0.5/16", "fd00::5/64"));
}

}  // namespace
}  // namespace vmrt::agent::test
