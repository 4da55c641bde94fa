// Snapshots of virtio-net: the receive buffers the device holds for the
// next frame go back to the ring (or, when a chain popped after them was
// used already, the snapshot is refused), and a device restored from the
// saved state receives and sends from where the first one stopped.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include "common/error.h"
#include "tests/support/error_text.h"
#include "tests/support/virtio_net_guest.h"

namespace vmrt::vmm {
namespace {

using namespace std::chrono_literals;
using test::feature;
using ::testing::HasSubstr;

constexpr uint64_t kMergeable = feature(VIRTIO_NET_F_MAC) | feature(VIRTIO_NET_F_MRG_RXBUF);

// A device on one end of a seqpacket socketpair standing in for the tap.
struct Nic {
  Nic() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    peer = UniqueFd(sv[1]);
    net::NetConfig nc;
    nc.tap = net::adopt_tap(UniqueFd(sv[0]));
    nc.mac = {0x02, 0, 0, 0, 0, 1};
    device = std::make_shared<net::NetDevice>(std::move(nc));
  }
  void send(size_t len) {
    std::vector<uint8_t> frame(len, 0xab);
    ASSERT_EQ(::send(peer.get(), frame.data(), len, 0), static_cast<ssize_t>(len));
  }
  UniqueFd peer;
  std::shared_ptr<net::NetDevice> device;
};

bool reaches(const std::atomic<uint64_t>& c, uint64_t want) {
  for (int i = 0; i < 5000 && c.load() < want; ++i) std::this_thread::sleep_for(1ms);
  return c.load() >= want;
}

class NetSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override { guest = std::make_unique<test::NetGuest>(nic.device); }
  // Brings the device up with one bad receive buffer first, then `good`
  // ones: once the bad one is counted the device has taken what it holds.
  void bring_up_with_buffers(int good) {
    ASSERT_TRUE(guest->bring_up(kMergeable) & VIRTIO_CONFIG_S_DRIVER_OK);
    auto& rx = guest->rx();
    rx.add({{rx.alloc(64), 64, false}});  // device-readable: unusable
    guest->post_rx(good, 4096);
    ASSERT_TRUE(reaches(nic.device->counters().rx_bad_buffers, 1));
    skip_bad_buffer();
  }
  // The used entry of the bad buffer, which is no frame.
  void skip_bad_buffer() {
    std::vector<test::Used> used;
    for (int i = 0; i < 5000 && used.empty(); ++i) {
      used = guest->rx().take_used();
      if (used.empty()) std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(used.size(), 1u);
    EXPECT_EQ(used[0].len, 0u);
  }

  Nic nic;
  std::unique_ptr<test::NetGuest> guest;
};

TEST_F(NetSnapshotTest, HeldReceiveBuffersGoBackToTheRing) {
  bring_up_with_buffers(40);
  auto& t = guest->transport();
  t.quiesce();
  nlohmann::json j = t.save_state();
  // The bad buffer went back used; the ones held for a frame are available again.
  EXPECT_EQ(j.at("queues")[0].at("next_avail"), 1);
  EXPECT_EQ(j.at("queues")[0].at("next_used"), 1);
  EXPECT_TRUE(j.at("device").is_null());
  // Serving again, the same buffers take a frame.
  t.resume();
  nic.send(1000);
  auto frame = guest->receive(5s);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->data.size(), 1000u);
}

TEST_F(NetSnapshotTest, RestoredDeviceReceivesAndSendsFromTheSavedPositions) {
  bring_up_with_buffers(40);
  nic.send(700);
  ASSERT_TRUE(guest->receive(5s));
  guest->send(std::vector<uint8_t>(100, 1));
  ASSERT_EQ(guest->wait_tx_used(1, 5s).size(), 1u);
  auto& t = guest->transport();
  t.quiesce();
  nlohmann::json j = t.save_state();
  EXPECT_EQ(j.at("queues")[0].at("next_used"), 2);
  EXPECT_EQ(j.at("queues")[1].at("next_used"), 1);

  // The first device stays stopped; the restored one has its own "tap".
  Nic restored;
  virtio::MmioTransport rt(guest->mem(), restored.device);
  rt.restore_state(j);
  restored.send(900);
  auto frame = guest->receive(5s);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->data.size(), 900u);
  EXPECT_EQ(guest->mem().read_obj<uint16_t>(guest->rx().used_ring() + 2), 3);
  // Transmit continues at the second chain (posted through the new transport).
  auto& tx = guest->tx();
  tx.add({{tx.alloc(sizeof(virtio_net_hdr_v1)), sizeof(virtio_net_hdr_v1)}, {tx.alloc(60), 60}});
  test::mmio_write(rt, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
  for (int i = 0; i < 5000 && guest->mem().read_obj<uint16_t>(guest->tx().used_ring() + 2) != 2;
       ++i)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(guest->mem().read_obj<uint16_t>(guest->tx().used_ring() + 2), 2);
  pollfd p{restored.peer.get(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1);
  std::vector<uint8_t> buf(2048);
  EXPECT_EQ(::recv(restored.peer.get(), buf.data(), buf.size(), 0), 60);
}

TEST_F(NetSnapshotTest, BuffersThatCannotBeGivenBackAreRefused) {
  ASSERT_TRUE(guest->bring_up(kMergeable) & VIRTIO_CONFIG_S_DRIVER_OK);
  auto& rx = guest->rx();
  // A good buffer, then a bad one the device returns at once, then enough
  // good ones for a largest frame: the first is held behind a used chain.
  rx.add({{rx.alloc(4096), 4096, true}});
  rx.add({{rx.alloc(64), 64, false}});
  guest->post_rx(40, 4096);
  ASSERT_TRUE(reaches(nic.device->counters().rx_bad_buffers, 1));
  skip_bad_buffer();
  auto& t = guest->transport();
  EXPECT_THAT(vmrt::test::error_text([&] { t.quiesce(); }), HasSubstr("receive buffers in flight"));
  EXPECT_FALSE(t.quiesced());
  // Still serving.
  nic.send(500);
  EXPECT_TRUE(reaches(nic.device->counters().rx_frames, 1));
}

}  // namespace
}  // namespace vmrt::vmm
