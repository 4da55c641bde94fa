// virtio-net through its virtio-mmio transport, driven by a simulated guest
// driver, on an AF_UNIX seqpacket socketpair standing in for the tap (one
// frame per read and write, no root needed): features and configuration
// space, both directions, mergeable receive buffers, waiting for late
// buffers, back-pressure from the tap, hostile chains and rings, reset.
#include "vmm/devices/net/net_device.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <linux/virtio_ids.h>
#include <poll.h>
#include <sys/socket.h>

#include <numeric>

#include "common/error.h"
#include "tests/support/virtio_net_guest.h"

namespace vmrt::vmm {
namespace {

using namespace std::chrono_literals;
using test::feature;
using test::NetGuest;

constexpr net::MacAddress kMac{0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
constexpr uint64_t kBasic =
    feature(VIRTIO_NET_F_MAC) | feature(VIRTIO_NET_F_STATUS) | feature(VIRTIO_NET_F_MRG_RXBUF);

std::vector<uint8_t> make_frame(size_t len, uint8_t seed) {
  std::vector<uint8_t> f(len);
  for (size_t i = 0; i < len; ++i) f[i] = static_cast<uint8_t>(seed + i * 7);
  return f;
}

size_t thread_count() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/task");
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

class NetDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    peer = UniqueFd(sv[1]);
    net::NetConfig nc;
    nc.tap = net::adopt_tap(UniqueFd(sv[0]));
    nc.mac = kMac;
    device = std::make_shared<net::NetDevice>(std::move(nc));
    guest = std::make_unique<NetGuest>(device);
  }

  void bring_up(uint64_t features = kBasic) {
    uint32_t st = guest->bring_up(features);
    ASSERT_TRUE(st & VIRTIO_CONFIG_S_DRIVER_OK);
    ASSERT_FALSE(st & VIRTIO_CONFIG_S_NEEDS_RESET);
  }

  // The next frame out of the "tap", or empty after `timeout`.
  std::vector<uint8_t> peer_receive(std::chrono::milliseconds timeout = 5s) {
    pollfd p{peer.get(), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return {};
    std::vector<uint8_t> buf(128 * 1024);
    ssize_t n = recv(peer.get(), buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }
  void peer_send(const std::vector<uint8_t>& frame) {
    ASSERT_EQ(send(peer.get(), frame.data(), frame.size(), 0), static_cast<ssize_t>(frame.size()));
  }
  // Waits for a counter to reach `want` (the device thread updates it).
  static bool reaches(const std::atomic<uint64_t>& c, uint64_t want) {
    for (int i = 0; i < 5000 && c.load() < want; ++i) std::this_thread::sleep_for(1ms);
    return c.load() >= want;
  }

  UniqueFd peer;
  std::shared_ptr<net::NetDevice> device;
  std::unique_ptr<NetGuest> guest;
};

TEST_F(NetDeviceTest, OffersMacStatusAndMergeableBuffersButNoOffloadsOnBareFrames) {
  auto& t = guest->transport();
  EXPECT_EQ(test::mmio_read(t, VIRTIO_MMIO_DEVICE_ID), static_cast<uint32_t>(VIRTIO_ID_NET));
  test::mmio_write(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
  uint64_t f = test::mmio_read(t, VIRTIO_MMIO_DEVICE_FEATURES);
  EXPECT_EQ(f & kBasic, kBasic);
  // A socket carries no virtio-net header, so there is no way to pass
  // partial checksums or GSO on.
  for (unsigned bit : {VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_HOST_TSO4,
                       VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_MQ})
    EXPECT_FALSE(f & feature(bit)) << "feature bit " << bit;
  test::mmio_write(t, VIRTIO_MMIO_QUEUE_SEL, 0);
  EXPECT_EQ(test::mmio_read(t, VIRTIO_MMIO_QUEUE_NUM_MAX), net::NetDevice::kQueueSize);
  test::mmio_write(t, VIRTIO_MMIO_QUEUE_SEL, 2);
  EXPECT_EQ(test::mmio_read(t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0u);  // no control queue

  virtio_net_config cfg{};
  t.read(0x100, {reinterpret_cast<uint8_t*>(&cfg), sizeof cfg});
  EXPECT_EQ(0, std::memcmp(cfg.mac, kMac.data(), 6));
  EXPECT_EQ(cfg.status, VIRTIO_NET_S_LINK_UP);
  // Byte-wise reads, as a driver may do, see the same.
  uint8_t b = 0;
  t.read(0x100 + 5, {&b, 1});
  EXPECT_EQ(b, 0x55);
}

TEST_F(NetDeviceTest, TransmittedFrameArrivesWithoutItsHeader) {
  bring_up();
  auto frame = make_frame(1000, 1);
  guest->send(frame, {}, 300);  // header, then the frame in four pieces
  EXPECT_EQ(peer_receive(), frame);
  auto used = guest->wait_tx_used(1, 5s);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_TRUE(reaches(device->counters().tx_frames, 1));
  // The frame's bytes, without the virtio-net header.
  EXPECT_EQ(device->counters().tx_bytes.load(), frame.size());
}

TEST_F(NetDeviceTest, ReceivedFrameSpansThreeMergeableBuffers) {
  bring_up();
  guest->post_rx(3, 1024);
  auto frame = make_frame(2500, 9);  // 12 + 2500 bytes: 1024 + 1024 + 464
  peer_send(frame);
  auto got = guest->receive(5s);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->buffers, 3u);
  EXPECT_EQ(got->hdr.flags, 0);
  EXPECT_EQ(got->hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
  EXPECT_EQ(got->data, frame);
  EXPECT_TRUE(guest->rx_used().empty());
  // A second, small frame takes one buffer: the first three are used up.
  guest->post_rx(1, 1024);
  auto small = make_frame(60, 3);
  peer_send(small);
  got = guest->receive(5s);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->buffers, 1u);
  EXPECT_EQ(got->data, small);
}

TEST_F(NetDeviceTest, ReceiveWaitsForBuffersAndDeliversOncePosted) {
  // EVENT_IDX: the device must ask for the notification it waits for.
  bring_up(kBasic | feature(VIRTIO_RING_F_EVENT_IDX));
  auto frame = make_frame(1400, 5);
  peer_send(frame);
  EXPECT_FALSE(guest->receive(200ms));
  guest->post_rx(1, 2048);
  auto got = guest->receive(5s);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, frame);
  EXPECT_EQ(device->counters().rx_dropped.load(), 0u);
}

TEST_F(NetDeviceTest, FrameLongerThanThePostedBuffersWaitsForMore) {
  bring_up();
  guest->post_rx(1, 1024);
  auto frame = make_frame(3000, 2);
  peer_send(frame);
  EXPECT_FALSE(guest->receive(200ms));  // not delivered in part
  guest->post_rx(2, 1024);
  auto got = guest->receive(5s);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->buffers, 3u);
  EXPECT_EQ(got->data, frame);
  EXPECT_EQ(device->counters().rx_dropped.load(), 0u);
}

TEST_F(NetDeviceTest, WithoutMergeableBuffersAnOversizedFrameIsDroppedAndCounted) {
  bring_up(feature(VIRTIO_NET_F_MAC));
  guest->post_rx(1, 512);
  peer_send(make_frame(1000, 1));
  ASSERT_TRUE(reaches(device->counters().rx_dropped, 1));
  auto frame = make_frame(100, 4);
  peer_send(frame);  // the same buffer takes the next frame
  auto got = guest->receive(5s);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->buffers, 1u);  // num_buffers is 1 without MRG_RXBUF too
  EXPECT_EQ(got->data, frame);
}

TEST_F(NetDeviceTest, MalformedTransmitChainsAreDroppedWithoutHarmingTheNext) {
  bring_up();
  auto& tx = guest->tx();
  // Shorter than a header.
  guest->post_tx({{tx.alloc(8), 8}});
  // A device-writable buffer on the transmit queue.
  guest->post_tx({{tx.alloc(12), 12}, {tx.alloc(64), 64, true}});
  // Longer than 64 KiB plus the link headers.
  guest->send(make_frame(net::kMaxFrameLen + 1, 0));
  // Offloads that were not negotiated.
  virtio_net_hdr_v1 csum{};
  csum.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  guest->send(make_frame(100, 0), csum);
  virtio_net_hdr_v1 tso{};
  tso.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  tso.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
  tso.gso_size = 1400;
  guest->send(make_frame(3000, 0), tso);
  // Receive-only header flags.
  virtio_net_hdr_v1 valid{};
  valid.flags = VIRTIO_NET_HDR_F_DATA_VALID;
  guest->send(make_frame(100, 0), valid);
  auto good = make_frame(200, 42);
  guest->send(good);

  EXPECT_EQ(peer_receive(), good);
  EXPECT_TRUE(peer_receive(100ms).empty());
  EXPECT_EQ(guest->wait_tx_used(7, 5s).size(), 7u);  // every chain is given back
  EXPECT_EQ(device->counters().tx_dropped.load(), 6u);
  EXPECT_EQ(device->counters().tx_frames.load(), 1u);
  EXPECT_FALSE(guest->status() & VIRTIO_CONFIG_S_NEEDS_RESET);
}

TEST_F(NetDeviceTest, ReadOnlyReceiveChainIsReturnedUnused) {
  bring_up();
  auto& rx = guest->rx();
  rx.add({{rx.alloc(2048), 2048, false}});
  rx.add({{rx.alloc(8), 8, true}});  // shorter than a header
  guest->post_rx(1, 2048);
  auto frame = make_frame(500, 7);
  peer_send(frame);
  ASSERT_TRUE(reaches(device->counters().rx_frames, 1));
  // Two entries of length 0, then the frame with its header.
  auto used = guest->rx().take_used();
  ASSERT_EQ(used.size(), 3u);
  EXPECT_EQ(used[0].len, 0u);
  EXPECT_EQ(used[1].len, 0u);
  EXPECT_EQ(used[2].len, net::kHeaderSize + frame.size());
  EXPECT_EQ(device->counters().rx_bad_buffers.load(), 2u);
  EXPECT_EQ(device->counters().rx_bytes.load(), frame.size());
  EXPECT_FALSE(guest->status() & VIRTIO_CONFIG_S_NEEDS_RESET);
}

TEST_F(NetDeviceTest, TransmitWaitsWhenTheTapPushesBack) {
  bring_up();
  // 64 frames of 8000 bytes are more than the socket buffer holds: the
  // device has to wait for room rather than drop.
  constexpr int kFrames = 64;
  for (int i = 0; i < kFrames; ++i) guest->send(make_frame(8000, static_cast<uint8_t>(i)));
  std::this_thread::sleep_for(100ms);
  for (int i = 0; i < kFrames; ++i)
    ASSERT_EQ(peer_receive(), make_frame(8000, static_cast<uint8_t>(i))) << "frame " << i;
  EXPECT_EQ(guest->wait_tx_used(kFrames, 5s).size(), static_cast<size_t>(kFrames));
  EXPECT_EQ(device->counters().tx_dropped.load(), 0u);
  EXPECT_EQ(device->counters().tx_errors.load(), 0u);
}

TEST_F(NetDeviceTest, BrokenRingNeedsReset) {
  bring_up();
  guest->tx().set_avail_idx(1000);  // more buffers than the ring has
  test::mmio_write(guest->transport(), VIRTIO_MMIO_QUEUE_NOTIFY, 1);
  for (int i = 0; i < 5000 && !(guest->status() & VIRTIO_CONFIG_S_NEEDS_RESET); ++i)
    std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(guest->status() & VIRTIO_CONFIG_S_NEEDS_RESET);
}

TEST_F(NetDeviceTest, ResetStopsTheDeviceThread) {
  size_t before = thread_count();
  bring_up();
  EXPECT_EQ(thread_count(), before + 1);
  guest->post_rx(4, 2048);
  guest->reset();
  EXPECT_EQ(thread_count(), before);
  // Nothing reads the tap any more: the frame stays in the socket.
  peer_send(make_frame(100, 1));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(device->counters().rx_frames.load(), 0u);
  EXPECT_TRUE(guest->rx().take_used().empty());
}

TEST(NetTap, RefusesFdsThatLoseFrameBoundaries) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd other(sv[1]);
  EXPECT_THROW(net::adopt_tap(UniqueFd(sv[0])), Error);
}

TEST(NetMac, ParsesUnicastAddressesOnly) {
  auto mac = net::parse_mac("02:aB:00:ff:10:09");
  ASSERT_TRUE(mac);
  EXPECT_EQ(net::format_mac(*mac), "02:ab:00:ff:10:09");
  for (const char* bad :
       {"", "02:ab:00:ff:10", "02:ab:00:ff:10:09:00", "02-ab-00-ff-10-09", "01:00:5e:00:00:01",
        "00:00:00:00:00:00", "0x:ab:00:ff:10:09", "+2:ab:00:ff:10:09"})
    EXPECT_FALSE(net::parse_mac(bad)) << bad;
  auto random = net::random_local_mac();
  EXPECT_EQ(random[0] & 0x03, 0x02);  // unicast, locally administered
}

}  // namespace
}  // namespace vmrt::vmm
