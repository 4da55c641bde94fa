// PodAttachment on the host: a veth in a scratch "pod" namespace, as CNI's
// bridge plugin leaves it, with its peer in a second namespace standing for
// the bridge side. The attachment must describe the veth for the guest, wire
// a tap to it in both directions and leave nothing behind.

#include "sandbox/network/pod_attachment.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "common/error.h"
#include "common/process.h"
#include "sandbox/network/netns_thread.h"
#include "tests/support/scratch_netns.h"

namespace vmrt::sandbox::network {
namespace {

using nlohmann::json;
using vmrt::test::ScratchNetns;

// The tap's virtio-net header as the kernel's default size has it (the VMM
// sets the 12-byte v1 header on its copy; nobody does here).
constexpr size_t kVnetHeader = 10;
// A local experimental EtherType: nothing else on the wire uses it.
constexpr uint16_t kTestEtherType = 0x88b5;

class PodAttachmentTest : public ::testing::Test {
 protected:
  ScratchNetns pod, peer;

  void SetUp() override {
    std::string peer_end = "vp" + std::to_string(::getpid() % 100000);
    pod.ip({"link", "add", "eth0", "mtu", "1400", "type", "veth", "peer", "name", peer_end, "netns",
            peer.name()});
    pod.ip({"addr", "add", "10.77.0.5/24", "dev", "eth0"});
    pod.ip({"link", "set", "eth0", "up"});
    pod.ip({"route", "add", "default", "via", "10.77.0.1"});
    peer.ip({"addr", "add", "10.77.0.1/24", "dev", peer_end});
    peer.ip({"link", "set", peer_end, "up"});
    peer_if_ = peer_end;
  }

  json link(const std::string& name) {
    for (const auto& l : pod.ip_json({"link", "show"}))
      if (l.value("ifname", "") == name) return l;
    return nullptr;
  }

  std::string tc(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"tc", "-n", pod.name()};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = run_capture(argv, std::chrono::seconds(10));
    EXPECT_TRUE(r.status.success()) << r.err;
    return r.out;
  }

  std::string peer_if_;
};

// Reads frames from `fd` until one with EtherType `type` (at `offset`, after
// any header) arrives, or 10 s pass.
std::vector<uint8_t> frame_of_type(int fd, size_t offset, uint16_t type) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    std::vector<uint8_t> buf(65536);
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < static_cast<ssize_t>(offset + ETH_HLEN)) continue;
    buf.resize(static_cast<size_t>(n));
    if ((buf[offset + 12] << 8 | buf[offset + 13]) == type) return buf;
  }
  return {};
}

TEST_F(PodAttachmentTest, DescribesTheVethAndWiresATapToIt) {
  std::string mac = link("eth0")["address"];
  auto a = PodAttachment::attach(pod.path());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->guest_mac(), mac);
  ASSERT_GE(a->tap_fd(), 0);

  // What the guest gets: the veth's name, MAC, MTU, address and routes.
  const PodNetwork& n = a->guest_network();
  ASSERT_EQ(n.interfaces.size(), 1u);
  EXPECT_EQ(n.interfaces[0].name, "eth0");
  EXPECT_EQ(n.interfaces[0].mac, mac);
  EXPECT_EQ(n.interfaces[0].mtu, 1400u);
  ASSERT_EQ(n.interfaces[0].addresses.size(), 1u);
  EXPECT_EQ(n.interfaces[0].addresses[0].ip, "10.77.0.5");
  EXPECT_EQ(n.interfaces[0].addresses[0].prefix_len, 24u);
  bool has_default = false, has_subnet = false;
  for (const auto& r : n.routes) {
    EXPECT_EQ(r.device, "eth0");
    if (r.destination.empty() && r.gateway == "10.77.0.1") has_default = true;
    if (r.destination == "10.77.0.0/24" && r.gateway.empty()) has_subnet = true;
  }
  EXPECT_TRUE(has_default);
  EXPECT_TRUE(has_subnet);

  // The tap is up with the veth's MTU, and each side redirects to the other.
  json tap = link(PodAttachment::kTapName);
  ASSERT_FALSE(tap.is_null());
  EXPECT_EQ(tap["mtu"], 1400);
  EXPECT_NE(tap["flags"].dump().find("\"UP\""), std::string::npos) << tap.dump();
  EXPECT_NE(
      tc({"filter", "show", "dev", "eth0", "ingress"}).find("Egress Redirect to device vmrt-tap0"),
      std::string::npos);
  EXPECT_NE(tc({"filter", "show", "dev", PodAttachment::kTapName, "ingress"})
                .find("Egress Redirect to device eth0"),
            std::string::npos);

  // Bridge side -> tap: the peer's ARP request for the pod's address comes
  // out of the tap, where the guest's NIC would read it.
  Subprocess ping = Subprocess::spawn(
      {"ip", "netns", "exec", peer.name(), "ping", "-c", "3", "-W", "1", "10.77.0.5"}, {});
  std::vector<uint8_t> arp = frame_of_type(a->tap_fd(), kVnetHeader, ETH_P_ARP);
  ping.kill(SIGKILL);
  ping.wait();
  ASSERT_FALSE(arp.empty()) << "no ARP request reached the tap";
  const uint8_t* target_ip = arp.data() + kVnetHeader + ETH_HLEN + 24;
  EXPECT_EQ(std::memcmp(target_ip, "\x0a\x4d\x00\x05", 4), 0);

  // Tap -> bridge side: a frame the guest sends leaves through the veth.
  UniqueFd capture;
  in_network_namespace(peer.path(), [&] {
    capture.reset(check_sys(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(kTestEtherType)),
                            "AF_PACKET socket"));
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(kTestEtherType);
    sll.sll_ifindex = static_cast<int>(::if_nametoindex(peer_if_.c_str()));
    check_sys(::bind(capture.get(), reinterpret_cast<sockaddr*>(&sll), sizeof sll), "bind");
  });
  std::vector<uint8_t> out(kVnetHeader + 60, 0);
  uint8_t* eth = out.data() + kVnetHeader;
  std::memset(eth, 0xff, 6);  // broadcast
  std::memcpy(eth + 6, "\x02\x00\x00\x00\x00\x07", 6);
  eth[12] = kTestEtherType >> 8;
  eth[13] = kTestEtherType & 0xff;
  std::memcpy(eth + ETH_HLEN, "from the guest", 14);
  ASSERT_EQ(::write(a->tap_fd(), out.data(), out.size()), static_cast<ssize_t>(out.size()));
  std::vector<uint8_t> got = frame_of_type(capture.get(), 0, kTestEtherType);
  ASSERT_FALSE(got.empty()) << "the guest's frame did not leave through the veth";
  EXPECT_EQ(std::memcmp(got.data() + ETH_HLEN, "from the guest", 14), 0);

  // Destroyed: no tap, no qdisc on the veth; the veth itself is CNI's.
  a.reset();
  EXPECT_TRUE(link(PodAttachment::kTapName).is_null());
  EXPECT_EQ(tc({"qdisc", "show", "dev", "eth0", "ingress"}), "");
  EXPECT_FALSE(link("eth0").is_null());
}

// A dual-stack veth, as CNI's bridge plugin leaves it with an IPv6 range:
// the guest gets the global IPv6 address and the IPv6 routes, metrics
// included, but not the link-local address and route its kernel makes.
TEST_F(PodAttachmentTest, DescribesIpv6AddressesAndRoutes) {
  pod.ip({"-6", "addr", "add", "fd77::5/64", "dev", "eth0", "nodad"});
  pod.ip({"-6", "route", "add", "default", "via", "fd77::1", "dev", "eth0", "metric", "1024"});
  pod.ip({"-6", "route", "add", "fd78::/64", "via", "fe80::1", "dev", "eth0"});
  auto a = PodAttachment::attach(pod.path());
  ASSERT_TRUE(a);
  const PodNetwork& n = a->guest_network();
  std::vector<std::string> addrs;
  for (const auto& ad : n.interfaces.at(0).addresses)
    addrs.push_back(fmt::format("{}/{}", ad.ip, ad.prefix_len));
  EXPECT_EQ(addrs, (std::vector<std::string>{"10.77.0.5/24", "fd77::5/64"}));
  std::vector<std::string> v6;
  for (const auto& r : n.routes)
    if (r.destination.find(':') != std::string::npos || r.gateway.find(':') != std::string::npos)
      v6.push_back(fmt::format("{}|{}|{}|{}", r.destination, r.gateway, r.device, r.metric));
  std::sort(v6.begin(), v6.end());  // in the kernel's order, not the one added in
  EXPECT_EQ(v6, (std::vector<std::string>{"fd77::/64||eth0|256", "fd78::/64|fe80::1|eth0|1024",
                                          "|fd77::1|eth0|1024"}));
}

TEST_F(PodAttachmentTest, TheTapGoesWithItsLastDescriptor) {
  auto a = PodAttachment::attach(pod.path());
  ASSERT_TRUE(a);
  // The VMM's copy keeps it; once the VMM has it, the sandbox drops ours.
  UniqueFd vmm_copy(::dup(a->tap_fd()));
  a->release_tap();
  EXPECT_FALSE(link(PodAttachment::kTapName).is_null());
  vmm_copy.reset();
  EXPECT_TRUE(link(PodAttachment::kTapName).is_null());
  a.reset();
  EXPECT_EQ(tc({"qdisc", "show", "dev", "eth0", "ingress"}), "");
}

TEST_F(PodAttachmentTest, ANamespaceWithOnlyLoopbackGivesNoNetwork) {
  ScratchNetns empty;
  EXPECT_EQ(PodAttachment::attach(empty.path()), nullptr);
}

TEST_F(PodAttachmentTest, AMissingNamespaceIsNamed) {
  try {
    PodAttachment::attach("/run/netns/vmrt-no-such-namespace");
    FAIL() << "attached to a missing namespace";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/run/netns/vmrt-no-such-namespace"), std::string::npos)
        << e.what();
  }
}

TEST_F(PodAttachmentTest, ASecondAttachmentIsRefusedAndLeavesTheFirstIntact) {
  auto a = PodAttachment::attach(pod.path());
  ASSERT_TRUE(a);
  EXPECT_THROW(PodAttachment::attach(pod.path()), Error);
  EXPECT_NE(
      tc({"filter", "show", "dev", "eth0", "ingress"}).find("Egress Redirect to device vmrt-tap0"),
      std::string::npos);
}

}  // namespace
}  // namespace vmrt::sandbox::network
