// virtio-net on a real tap with a virtio-net header, inside a fresh network
// namespace (so nothing on the host sees the interface): the offloads a
// vnet-header tap brings, a frame sent by the simulated guest leaving the
// tap (seen by an AF_PACKET socket on it), and a frame sent into the
// interface from the host side landing in the guest's receive buffers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "common/error.h"
#include "tests/support/virtio_net_guest.h"
#include "vmm/devices/net/net_device.h"

namespace vmrt::vmm {
namespace {

using namespace std::chrono_literals;
using test::feature;

constexpr const char* kTap = "vmrt-net0";
constexpr net::MacAddress kGuestMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x07};
// An EtherType for local experiments (IEEE 802): no host protocol answers
// it, so the frames in the test are only ever the test's own.
constexpr uint16_t kEtherType = 0x88b5;

std::vector<uint8_t> make_frame(const uint8_t* dst, const uint8_t* src, const std::string& text) {
  // At least the Ethernet minimum of 60 bytes, zero padded.
  std::vector<uint8_t> f(std::max<size_t>(ETH_HLEN + text.size(), 60), 0);
  std::memcpy(f.data(), dst, ETH_ALEN);
  std::memcpy(f.data() + ETH_ALEN, src, ETH_ALEN);
  f[12] = kEtherType >> 8;
  f[13] = kEtherType & 0xff;
  std::memcpy(f.data() + ETH_HLEN, text.data(), text.size());
  return f;
}

bool is_test_frame(const std::vector<uint8_t>& f) {
  return f.size() >= ETH_HLEN && f[12] == (kEtherType >> 8) && f[13] == (kEtherType & 0xff);
}

void set_up(const char* name) {
  UniqueFd s(check_sys(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket"));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  check_sys(ioctl(s.get(), SIOCGIFFLAGS, &ifr), "SIOCGIFFLAGS");
  ifr.ifr_flags |= IFF_UP;
  check_sys(ioctl(s.get(), SIOCSIFFLAGS, &ifr), "SIOCSIFFLAGS");
}

// Runs `body` on a thread of its own in a new network namespace, which
// goes away with the thread (and the tap with it, once its fd is closed).
template <typename Fn>
void in_new_netns(Fn body) {
  std::thread t([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      ADD_FAILURE() << "unshare(CLONE_NEWNET): " << strerror(errno);
      return;
    }
    body();
  });
  t.join();
}

class NetTapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    if (access("/dev/net/tun", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/net/tun";
  }
};

TEST_F(NetTapTest, FramesPassBothWaysThroughARealTap) {
  in_new_netns([] {
    net::NetConfig nc;
    nc.tap = net::open_tap(kTap);
    nc.mac = kGuestMac;
    ASSERT_TRUE(nc.tap.vnet_hdr);
    EXPECT_TRUE(nc.tap.offloads & TUN_F_CSUM);
    set_up(kTap);
    auto device = std::make_shared<net::NetDevice>(std::move(nc));
    uint64_t offered = device->device_features();
    for (unsigned bit : {VIRTIO_NET_F_CSUM, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
                         VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4})
      EXPECT_TRUE(offered & feature(bit)) << "feature bit " << bit;

    // An AF_PACKET socket on the tap sees what the guest sends, and sends
    // into the interface what the guest should receive.
    unsigned ifindex = if_nametoindex(kTap);
    ASSERT_NE(ifindex, 0u);
    UniqueFd pkt(check_sys(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(kEtherType)),
                           "AF_PACKET socket"));
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(kEtherType);
    addr.sll_ifindex = static_cast<int>(ifindex);
    ASSERT_EQ(bind(pkt.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    uint8_t host_mac[ETH_ALEN];
    {
      ifreq ifr{};
      std::strncpy(ifr.ifr_name, kTap, IFNAMSIZ - 1);
      ASSERT_EQ(ioctl(pkt.get(), SIOCGIFHWADDR, &ifr), 0);
      std::memcpy(host_mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
    }

    test::NetGuest guest(device);
    uint32_t st = guest.bring_up(feature(VIRTIO_NET_F_MAC) | feature(VIRTIO_NET_F_MRG_RXBUF) |
                                 feature(VIRTIO_NET_F_CSUM) | feature(VIRTIO_NET_F_GUEST_CSUM));
    ASSERT_TRUE(st & VIRTIO_CONFIG_S_DRIVER_OK);
    ASSERT_FALSE(st & VIRTIO_CONFIG_S_NEEDS_RESET);
    guest.post_rx(32, 2048);

    // Guest to host.
    auto out = make_frame(host_mac, kGuestMac.data(), "from the guest");
    guest.send(out);
    std::vector<uint8_t> seen;
    for (int tries = 0; tries < 50 && seen != out; ++tries) {
      pollfd p{pkt.get(), POLLIN, 0};
      if (poll(&p, 1, 100) != 1) continue;
      std::vector<uint8_t> buf(2048);
      ssize_t n = recv(pkt.get(), buf.data(), buf.size(), 0);
      if (n > 0) seen.assign(buf.begin(), buf.begin() + n);
    }
    EXPECT_EQ(seen, out);
    // The worker counts a frame after the tap took it, which can be after
    // the interface has already delivered it to us.
    for (int i = 0; i < 100 && device->counters().tx_frames.load() == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(device->counters().tx_frames.load(), 1u);

    // Host to guest: the interface transmits to the tap, the guest receives.
    auto in = make_frame(kGuestMac.data(), host_mac, "to the guest");
    ASSERT_EQ(
        sendto(pkt.get(), in.data(), in.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
        static_cast<ssize_t>(in.size()));
    std::optional<test::RxFrame> got;
    // The kernel may send its own frames (IPv6 neighbour discovery) too.
    for (int tries = 0; tries < 20; ++tries) {
      got = guest.receive(250ms);
      if (got && is_test_frame(got->data)) break;
    }
    ASSERT_TRUE(got && is_test_frame(got->data));
    EXPECT_EQ(got->data, in);
    EXPECT_EQ(got->buffers, 1u);
    EXPECT_EQ(got->hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
  });
}

}  // namespace
}  // namespace vmrt::vmm
