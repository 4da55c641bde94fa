// virtio-vsock through its virtio-mmio transport, driven by a simulated
// guest driver over fake guest memory, against real host Unix sockets: the
// register handshake, both connection directions, refusals, half and full
// close, credit overrun, and hostile packets and rings.
#include "vmm/devices/vsock/vsock_device.h"

#include <gtest/gtest.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <chrono>
#include <future>
#include <map>
#include <thread>

#include "common/error.h"
#include "common/fd_io.h"
#include "common/hybrid_vsock.h"
#include "common/tempdir.h"
#include "common/unix_socket.h"
#include "tests/support/virtio_driver.h"
#include "tests/support/virtio_mmio_driver.h"
#include "vmm/devices/vsock/vsock_wire.h"
#include "vmm/virtio/mmio_transport.h"

namespace vmrt::vmm {
namespace {

using namespace std::chrono_literals;
using test::VirtioDriver;
using vsock::kHeaderSize;

constexpr uint64_t kCid = 3;
constexpr uint16_t kQueueSize = 64;

struct Packet {
  virtio_vsock_hdr hdr{};
  std::string payload;
};

class VsockDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    device = std::make_shared<vsock::VsockDevice>(vsock::VsockConfig{kCid, sock.string()});
    transport = std::make_unique<virtio::MmioTransport>(mem, device);
  }
  void TearDown() override { transport.reset(); }

  uint32_t reg(uint64_t off) { return test::mmio_read(*transport, off); }
  void set(uint64_t off, uint32_t v) { test::mmio_write(*transport, off, v); }

  // The driver side of initialization, with receive buffers posted before
  // DRIVER_OK as Linux does.
  void bring_up(uint64_t features = 1ull << VIRTIO_F_VERSION_1) {
    for (uint32_t q = 0; q < 3; ++q) {
      set(VIRTIO_MMIO_QUEUE_SEL, q);
      ASSERT_EQ(reg(VIRTIO_MMIO_QUEUE_NUM_MAX), vsock::VsockDevice::kQueueSize);
    }
    uint32_t status =
        test::bring_up(*transport, {&rx, &tx, &ev}, features, [&] { post_rx(kQueueSize); });
    ASSERT_TRUE(status & VIRTIO_CONFIG_S_FEATURES_OK);
    ASSERT_FALSE(status & VIRTIO_CONFIG_S_NEEDS_RESET);
  }

  // Receive buffers as Linux 6.1 posts them: a header and a 4 KiB page.
  void post_rx(int n) {
    for (int i = 0; i < n; ++i) {
      uint64_t h = rx.alloc(kHeaderSize), p = rx.alloc(4096);
      uint16_t head = rx.add({{h, kHeaderSize, true}, {p, 4096, true}});
      rx_bufs[head] = {h, p};
    }
    set(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  }

  void send(uint32_t src_port, uint32_t dst_port, uint16_t op, std::string payload = {},
            uint32_t flags = 0, uint64_t src_cid = kCid) {
    virtio_vsock_hdr h{};
    h.src_cid = src_cid;
    h.dst_cid = vsock::kHostCid;
    h.src_port = src_port;
    h.dst_port = dst_port;
    h.len = static_cast<uint32_t>(payload.size());
    h.type = VIRTIO_VSOCK_TYPE_STREAM;
    h.op = op;
    h.flags = flags;
    h.buf_alloc = 256 * 1024;
    h.fwd_cnt = guest_fwd_cnt;
    uint64_t hg = tx.alloc_bytes({reinterpret_cast<uint8_t*>(&h), kHeaderSize});
    std::vector<test::Buffer> bufs{{hg, kHeaderSize}};
    if (!payload.empty())
      bufs.push_back(
          {tx.alloc_bytes({reinterpret_cast<const uint8_t*>(payload.data()), payload.size()}),
           static_cast<uint32_t>(payload.size())});
    tx.add(bufs);
    set(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
  }

  // The next packet the device put on the receive queue.
  std::optional<Packet> receive(std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pending.empty() && std::chrono::steady_clock::now() < deadline) {
      for (auto u : rx.take_used()) {
        auto [h, p] = rx_bufs.at(static_cast<uint16_t>(u.id));
        Packet pkt;
        pkt.hdr = mem.read_obj<virtio_vsock_hdr>(h);
        EXPECT_EQ(u.len, kHeaderSize + pkt.hdr.len);
        auto bytes = rx.read(p, pkt.hdr.len);
        pkt.payload.assign(bytes.begin(), bytes.end());
        guest_fwd_cnt += pkt.hdr.len;
        pending.push_back(pkt);
        post_rx(1);
      }
      if (pending.empty()) std::this_thread::sleep_for(1ms);
    }
    if (pending.empty()) return std::nullopt;
    Packet p = pending.front();
    pending.erase(pending.begin());
    return p;
  }
  Packet expect(uint16_t op) {
    auto p = receive();
    EXPECT_TRUE(p) << "no packet, expected " << vsock::op_name(op);
    if (!p) return {};
    EXPECT_EQ(p->hdr.op, op) << "got " << vsock::op_name(p->hdr.op) << ", expected "
                             << vsock::op_name(op);
    return *p;
  }

  // A host client connected to guest port `port`, the guest accepting.
  UniqueFd connect_from_host(uint32_t port, uint32_t* host_port) {
    auto client =
        std::async(std::launch::async, [&] { return hybrid_vsock::connect_vsock(sock, port, 5s); });
    Packet req = expect(VIRTIO_VSOCK_OP_REQUEST);
    EXPECT_EQ(req.hdr.dst_port, port);
    EXPECT_EQ(req.hdr.src_cid, vsock::kHostCid);
    EXPECT_EQ(req.hdr.dst_cid, kCid);
    *host_port = req.hdr.src_port;
    send(port, req.hdr.src_port, VIRTIO_VSOCK_OP_RESPONSE);
    return client.get();
  }

  TempDir dir{"vsock-test"};
  std::filesystem::path sock = dir.path() / "vm.sock";
  GuestMemory mem = GuestMemory::create(16 << 20);
  VirtioDriver rx{mem, kQueueSize, 0x10000, 0x100000};
  VirtioDriver tx{mem, kQueueSize, 0x20000, 0x400000};
  VirtioDriver ev{mem, kQueueSize, 0x30000, 0x800000};
  std::map<uint16_t, std::pair<uint64_t, uint64_t>> rx_bufs;
  std::vector<Packet> pending;
  uint32_t guest_fwd_cnt = 0;
  std::shared_ptr<vsock::VsockDevice> device;
  std::unique_ptr<virtio::MmioTransport> transport;
};

TEST_F(VsockDeviceTest, IdentifiesItselfAndReportsTheGuestCid) {
  EXPECT_EQ(reg(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u);
  EXPECT_EQ(reg(VIRTIO_MMIO_VERSION), 2u);
  EXPECT_EQ(reg(VIRTIO_MMIO_DEVICE_ID), static_cast<uint32_t>(VIRTIO_ID_VSOCK));
  set(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
  EXPECT_TRUE(reg(VIRTIO_MMIO_DEVICE_FEATURES) & 1);  // VIRTIO_F_VERSION_1 is bit 32
  uint64_t cid = 0;
  transport->read(0x100, {reinterpret_cast<uint8_t*>(&cid), 8});
  EXPECT_EQ(cid, kCid);
}

TEST_F(VsockDeviceTest, RefusesADriverWithoutVersion1) {
  set(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  set(VIRTIO_MMIO_DRIVER_FEATURES, 0);
  set(VIRTIO_MMIO_STATUS,
      VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
  EXPECT_FALSE(reg(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
}

TEST_F(VsockDeviceTest, RefusesReservedCids) {
  EXPECT_THROW(vsock::VsockDevice(vsock::VsockConfig{2, (dir.path() / "x").string()}), Error);
  EXPECT_THROW(vsock::VsockDevice(vsock::VsockConfig{0xffffffff, (dir.path() / "y").string()}),
               Error);
}

TEST_F(VsockDeviceTest, HostToGuestStreamCarriesDataBothWays) {
  bring_up();
  uint32_t host_port = 0;
  UniqueFd client = connect_from_host(1024, &host_port);
  write_all(client.get(), "ping");
  Packet rw = expect(VIRTIO_VSOCK_OP_RW);
  EXPECT_EQ(rw.payload, "ping");
  EXPECT_EQ(rw.hdr.dst_port, 1024u);
  send(1024, host_port, VIRTIO_VSOCK_OP_RW, "pong");
  char buf[4];
  ASSERT_TRUE(read_exact(client.get(), buf, 4));
  EXPECT_EQ(std::string(buf, 4), "pong");

  // Host half-close reaches the guest as SHUTDOWN(SEND); the guest can still write.
  ::shutdown(client.get(), SHUT_WR);
  Packet shut = expect(VIRTIO_VSOCK_OP_SHUTDOWN);
  EXPECT_EQ(shut.hdr.flags, static_cast<uint32_t>(VIRTIO_VSOCK_SHUTDOWN_SEND));
  send(1024, host_port, VIRTIO_VSOCK_OP_RW, "late");
  ASSERT_TRUE(read_exact(client.get(), buf, 4));
  EXPECT_EQ(std::string(buf, 4), "late");
  // The guest closes: the host sees EOF and the guest gets its RST.
  send(1024, host_port, VIRTIO_VSOCK_OP_SHUTDOWN, {},
       VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND);
  expect(VIRTIO_VSOCK_OP_RST);
  EXPECT_EQ(::read(client.get(), buf, 1), 0);
}

TEST_F(VsockDeviceTest, GuestRefusalReachesTheHostClient) {
  bring_up();
  auto client =
      std::async(std::launch::async, [&] { return hybrid_vsock::connect_vsock(sock, 77, 5s); });
  Packet req = expect(VIRTIO_VSOCK_OP_REQUEST);
  send(77, req.hdr.src_port, VIRTIO_VSOCK_OP_RST);
  try {
    client.get();
    FAIL() << "connected";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ECONNREFUSED) << e.what();
  }
}

TEST_F(VsockDeviceTest, MalformedConnectLineIsClosed) {
  bring_up();
  UniqueFd c = connect_unix(sock);
  write_all(c.get(), "CONNECT abc\n");
  char b;
  EXPECT_EQ(::read(c.get(), &b, 1), 0);
  EXPECT_FALSE(receive(200ms));  // nothing reached the guest
}

// A host flood of connections that never finish their handshake: the
// streams past the limit are refused at once (closed), those before it
// wait, and once they are gone the device serves a client as before.
TEST_F(VsockDeviceTest, ConnectionsPastTheLimitAreRefusedAndTheDeviceKeepsServing) {
  rlimit files{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  if (files.rlim_max < 2 * vsock::kMaxStreams + 64) GTEST_SKIP() << "too few descriptors allowed";
  files.rlim_cur = files.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0);
  bring_up();
  std::vector<UniqueFd> clients;
  for (size_t i = 0; i < vsock::kMaxStreams; ++i) clients.push_back(connect_unix(sock));
  UniqueFd refused = connect_unix(sock);
  pollfd p{.fd = refused.get(), .events = POLLIN};
  ASSERT_EQ(::poll(&p, 1, 5000), 1) << "the client past the limit was not refused";
  char c;
  EXPECT_LE(::read(refused.get(), &c, 1), 0);
  EXPECT_EQ(device->counters().streams_refused.load(), 1u);
  // The ones within the limit are still waiting for their CONNECT line.
  p = {.fd = clients.back().get(), .events = POLLIN};
  EXPECT_EQ(::poll(&p, 1, 0), 0);
  clients.clear();
  refused.reset();
  std::this_thread::sleep_for(200ms);  // the device sees them go
  uint32_t host_port = 0;
  UniqueFd client = connect_from_host(1024, &host_port);
  ASSERT_TRUE(client);
  write_all(client.get(), "after the flood");
  EXPECT_EQ(expect(VIRTIO_VSOCK_OP_RW).payload, "after the flood");
}

TEST_F(VsockDeviceTest, RefusedPacketsWithoutReceiveBuffersKeepTheControlQueueBounded) {
  // The attack: a guest that posts no receive buffers and sends packets the
  // device must refuse, each of which asks for a reset.
  uint32_t status = test::bring_up(*transport, {&rx, &tx, &ev}, 1ull << VIRTIO_F_VERSION_1, [] {});
  ASSERT_FALSE(status & VIRTIO_CONFIG_S_NEEDS_RESET);
  constexpr size_t kPackets = 3 * vsock::kMaxControlQueued;
  size_t used = 0;
  for (size_t i = 0; i < kPackets;) {
    // Half a ring at a time: descriptors are reused once the device is done.
    for (size_t n = 0; n < kQueueSize / 2 && i < kPackets; ++n, ++i)
      send(static_cast<uint32_t>(50000 + i), 7999, VIRTIO_VSOCK_OP_RW, "x");
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (used < i && std::chrono::steady_clock::now() < deadline) {
      used += tx.take_used().size();
      if (used < i) std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(used, i) << "the device stopped taking packets";
  }
  const vsock::VsockCounters& c = device->counters();
  EXPECT_EQ(c.control_peak.load(), vsock::kMaxControlQueued);
  EXPECT_EQ(c.control_dropped.load(), kPackets - vsock::kMaxControlQueued);
  // The queued resets reach the guest once it posts buffers, and the device
  // still serves new streams.
  post_rx(4);
  size_t resets = 0;
  while (auto p = receive(500ms)) {
    ASSERT_EQ(p->hdr.op, VIRTIO_VSOCK_OP_RST);
    ++resets;
  }
  EXPECT_EQ(resets, vsock::kMaxControlQueued);
  UniqueFd listener = listen_unix(sock.string() + "_7010");
  send(40010, 7010, VIRTIO_VSOCK_OP_REQUEST);
  expect(VIRTIO_VSOCK_OP_RESPONSE);
}

TEST_F(VsockDeviceTest, GuestToHostStreamReachesTheUnixSocket) {
  UniqueFd listener = listen_unix(sock.string() + "_7000");
  bring_up();
  send(40000, 7000, VIRTIO_VSOCK_OP_REQUEST);
  Packet resp = expect(VIRTIO_VSOCK_OP_RESPONSE);
  EXPECT_EQ(resp.hdr.src_port, 7000u);
  EXPECT_EQ(resp.hdr.dst_port, 40000u);
  UniqueFd conn = accept_unix(listener.get());
  send(40000, 7000, VIRTIO_VSOCK_OP_RW, "hello host");
  char buf[10];
  ASSERT_TRUE(read_exact(conn.get(), buf, 10));
  EXPECT_EQ(std::string(buf, 10), "hello host");
  write_all(conn.get(), "hi");
  EXPECT_EQ(expect(VIRTIO_VSOCK_OP_RW).payload, "hi");
  // Guest half-close becomes shutdown(SHUT_WR) on the host socket.
  send(40000, 7000, VIRTIO_VSOCK_OP_SHUTDOWN, {}, VIRTIO_VSOCK_SHUTDOWN_SEND);
  EXPECT_EQ(::read(conn.get(), buf, 1), 0);
}

TEST_F(VsockDeviceTest, GuestToHostPortWithoutListenerIsReset) {
  bring_up();
  send(40001, 7001, VIRTIO_VSOCK_OP_REQUEST);
  Packet rst = expect(VIRTIO_VSOCK_OP_RST);
  EXPECT_EQ(rst.hdr.dst_port, 40001u);
}

TEST_F(VsockDeviceTest, ResetsAreCountedEachWay) {
  bring_up();
  send(40005, 7005, VIRTIO_VSOCK_OP_REQUEST);  // nothing listens on the host
  expect(VIRTIO_VSOCK_OP_RST);
  send(40005, 7005, VIRTIO_VSOCK_OP_RST);  // the guest's reset takes no answer
  const vsock::VsockCounters& c = device->counters();
  for (int i = 0; i < 5000 && c.resets_received.load() == 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(c.resets_received.load(), 1u);
  EXPECT_EQ(c.resets_sent.load(), 1u);
  EXPECT_EQ(c.streams_refused.load(), 0u);  // refused by the host, not at the limit
}

TEST_F(VsockDeviceTest, CreditRequestIsAnswered) {
  UniqueFd listener = listen_unix(sock.string() + "_7002");
  bring_up();
  send(40002, 7002, VIRTIO_VSOCK_OP_REQUEST);
  expect(VIRTIO_VSOCK_OP_RESPONSE);
  send(40002, 7002, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
  Packet credit = expect(VIRTIO_VSOCK_OP_CREDIT_UPDATE);
  EXPECT_EQ(credit.hdr.buf_alloc, vsock::Connection::kBufAlloc);
}

TEST_F(VsockDeviceTest, GuestOverrunningItsCreditIsReset) {
  UniqueFd listener = listen_unix(sock.string() + "_7003");
  bring_up();
  send(40003, 7003, VIRTIO_VSOCK_OP_REQUEST);
  expect(VIRTIO_VSOCK_OP_RESPONSE);
  UniqueFd conn = accept_unix(listener.get());  // accepted, never read
  std::string chunk(60000, 'x');
  // Far past 256 KiB of credit plus what the socket buffer absorbs.
  std::optional<Packet> p;
  for (int i = 0; i < 200; ++i) {
    send(40003, 7003, VIRTIO_VSOCK_OP_RW, chunk);
    if ((p = receive(5ms)) && p->hdr.op == VIRTIO_VSOCK_OP_RST) break;
    if (tx.take_used().empty()) std::this_thread::sleep_for(1ms);
  }
  while (p && p->hdr.op != VIRTIO_VSOCK_OP_RST) p = receive(1s);
  ASSERT_TRUE(p) << "no RST for a guest ignoring its credit";
  EXPECT_EQ(device->counters().credit_overruns.load(), 1u);
}

TEST_F(VsockDeviceTest, ForgedSourceCidIsDroppedAndTheDeviceKeepsWorking) {
  UniqueFd listener = listen_unix(sock.string() + "_7004");
  bring_up();
  send(40004, 7004, VIRTIO_VSOCK_OP_REQUEST, {}, 0, /*src_cid=*/99);
  expect(VIRTIO_VSOCK_OP_RST);
  send(40004, 7004, VIRTIO_VSOCK_OP_REQUEST);
  expect(VIRTIO_VSOCK_OP_RESPONSE);
}

TEST_F(VsockDeviceTest, LengthPastTheChainIsRefused) {
  bring_up();
  virtio_vsock_hdr h{};
  h.src_cid = kCid;
  h.dst_cid = vsock::kHostCid;
  h.src_port = 1;
  h.dst_port = 2;
  h.len = 4096;  // but no payload follows
  h.type = VIRTIO_VSOCK_TYPE_STREAM;
  h.op = VIRTIO_VSOCK_OP_RW;
  tx.add({{tx.alloc_bytes({reinterpret_cast<uint8_t*>(&h), kHeaderSize}), kHeaderSize}});
  set(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
  expect(VIRTIO_VSOCK_OP_RST);
  EXPECT_FALSE(reg(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

TEST_F(VsockDeviceTest, MalformedRingPutsTheDeviceIntoNeedsReset) {
  bring_up();
  tx.write_desc(tx.desc_table(), 0, 1ull << 40, 64, 0, 0);  // far outside RAM
  tx.publish(0);
  set(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
  for (int i = 0; i < 500 && !(reg(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET); ++i)
    std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(reg(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
  EXPECT_TRUE(reg(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
  // A driver reset brings it back.
  set(VIRTIO_MMIO_STATUS, 0);
  EXPECT_EQ(reg(VIRTIO_MMIO_STATUS), 0u);
}

TEST_F(VsockDeviceTest, SocketFileIsRemovedWithTheDevice) {
  bring_up();
  EXPECT_TRUE(std::filesystem::exists(sock));
  transport.reset();
  device.reset();
  EXPECT_FALSE(std::filesystem::exists(sock));
}

}  // namespace
}  // namespace vmrt::vmm
