// Snapshots of virtio-vsock: refused while a stream is open (the caller
// retries once the host's connections closed), the guest CID saved and
// checked on restore, and a restored device serving host clients from the
// receive queue's saved position.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/virtio_mmio.h>

#include <chrono>
#include <thread>

#include "common/fd_io.h"
#include "common/tempdir.h"
#include "common/unix_socket.h"
#include "tests/support/error_text.h"
#include "tests/support/virtio_driver.h"
#include "tests/support/virtio_mmio_driver.h"
#include "vmm/devices/vsock/vsock_device.h"
#include "vmm/devices/vsock/vsock_wire.h"
#include "vmm/virtio/mmio_transport.h"

namespace vmrt::vmm {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using vmrt::test::error_text;

constexpr uint64_t kCid = 3;
constexpr uint16_t kQueueSize = 64;
constexpr uint32_t kRxLen = static_cast<uint32_t>(vsock::kHeaderSize) + 4096;

class VsockSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    device = std::make_shared<vsock::VsockDevice>(vsock::VsockConfig{kCid, sock.string()});
    transport = std::make_unique<virtio::MmioTransport>(mem, device);
  }
  void bring_up() {
    uint32_t st = test::bring_up(*transport, {&rx, &tx, &ev}, 1ull << VIRTIO_F_VERSION_1,
                                 [&] { post_rx(16); });
    ASSERT_TRUE(st & VIRTIO_CONFIG_S_DRIVER_OK);
  }
  void post_rx(int n) {
    for (int i = 0; i < n; ++i) {
      uint64_t gpa = rx.alloc(kRxLen);
      rx_bufs[rx.add({{gpa, kRxLen, true}})] = gpa;
    }
    test::mmio_write(*transport, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  }
  // The op of the next packet the device put on the receive queue; 0 when
  // none came.
  uint16_t next_op() {
    for (int i = 0; i < 5000 && used.empty(); ++i) {
      for (auto u : rx.take_used()) used.push_back(u);
      if (used.empty()) std::this_thread::sleep_for(1ms);
    }
    if (used.empty()) return 0;
    auto h = mem.read_obj<virtio_vsock_hdr>(rx_bufs.at(static_cast<uint16_t>(used.front().id)));
    used.erase(used.begin());
    return h.op;
  }
  // A host client that asked for guest port 1024; the guest has its REQUEST.
  UniqueFd start_stream(const std::filesystem::path& path) {
    UniqueFd client = connect_unix(path);
    write_all(client.get(), "CONNECT 1024\n");
    EXPECT_EQ(next_op(), VIRTIO_VSOCK_OP_REQUEST);
    return client;
  }
  // Quiesces as a snapshot's caller does: again until no stream is open.
  std::string quiesce_retrying(virtio::MmioTransport& t) {
    std::string err;
    for (int i = 0; i < 5000; ++i) {
      err = error_text([&] { t.quiesce(); });
      if (err.empty()) break;
      std::this_thread::sleep_for(1ms);
    }
    return err;
  }

  TempDir dir{"vsock-snap"};
  std::filesystem::path sock = dir.path() / "vm.sock";
  GuestMemory mem = GuestMemory::create(16 << 20);
  test::VirtioDriver rx{mem, kQueueSize, 0x10000, 0x100000};
  test::VirtioDriver tx{mem, kQueueSize, 0x20000, 0x400000};
  test::VirtioDriver ev{mem, kQueueSize, 0x30000, 0x800000};
  std::map<uint16_t, uint64_t> rx_bufs;
  std::vector<test::Used> used;
  std::shared_ptr<vsock::VsockDevice> device;
  std::unique_ptr<virtio::MmioTransport> transport;
};

TEST_F(VsockSnapshotTest, OpenStreamsAreRefusedUntilTheHostClosesThem) {
  bring_up();
  UniqueFd client = start_stream(sock);
  EXPECT_THAT(error_text([&] { transport->quiesce(); }), HasSubstr("virtio-vsock: 1 streams open"));
  EXPECT_FALSE(transport->quiesced());
  // The client gives up before the guest answered: the stream is reset.
  client.reset();
  EXPECT_EQ(quiesce_retrying(*transport), "");
  EXPECT_EQ(next_op(), VIRTIO_VSOCK_OP_RST);
  nlohmann::json j = transport->save_state();
  EXPECT_EQ(j.at("device").at("guest_cid"), kCid);
  EXPECT_EQ(j.at("queues")[0].at("next_used"), 2);   // REQUEST, RST
  EXPECT_EQ(j.at("queues")[2].at("next_avail"), 0);  // the event queue is never used
  // Serving again: the next client is announced to the guest.
  transport->resume();
  UniqueFd again = start_stream(sock);
}

TEST_F(VsockSnapshotTest, RestoredDeviceServesFromTheSavedPositionAndChecksTheCid) {
  bring_up();
  start_stream(sock).reset();
  ASSERT_EQ(quiesce_retrying(*transport), "");
  ASSERT_EQ(next_op(), VIRTIO_VSOCK_OP_RST);
  nlohmann::json j = transport->save_state();

  auto other = std::make_shared<vsock::VsockDevice>(
      vsock::VsockConfig{kCid + 1, (dir.path() / "other.sock").string()});
  virtio::MmioTransport wrong(mem, other);
  EXPECT_THAT(error_text([&] { wrong.restore_state(j); }),
              HasSubstr("the snapshot's guest has CID 3, this VM's is 4"));

  // The first VM is gone (its device stays stopped); the restored one has
  // its own socket.
  std::filesystem::path sock2 = dir.path() / "restored.sock";
  auto restored = std::make_shared<vsock::VsockDevice>(vsock::VsockConfig{kCid, sock2.string()});
  virtio::MmioTransport t(mem, restored);
  t.restore_state(j);
  UniqueFd client = start_stream(sock2);
  EXPECT_EQ(mem.read_obj<uint16_t>(rx.used_ring() + 2), 3);  // after REQUEST, RST
}

}  // namespace
}  // namespace vmrt::vmm
