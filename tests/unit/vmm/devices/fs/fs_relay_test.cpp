// FUSE requests through the virtio-fs device in both modes, the way a
// guest's kernel posts them: LOOKUP, OPEN, READ into many small buffers,
// WRITE from many, READDIR; more large READs at once than relay mode's
// bounce memory holds (its requests then wait, none is lost); a malformed
// chain (NEEDS_RESET, and the device starts again after the driver's
// reset); a reset with requests in flight; indirect chains with EVENT_IDX.
#include "vmm/devices/fs/fs_relay.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "common/tempdir.h"
#include "tests/support/bytes_of.h"
#include "tests/support/virtio_mmio_driver.h"
#include "vmm/devices/fs/fs_device.h"

namespace vmrt::vmm {
namespace {

using namespace std::chrono_literals;
using test::mmio_read;
using test::mmio_write;
using ::vmrt::test::bytes_of;

constexpr uint32_t kMaxWrite = 64 << 10;  // small, so that few READs fill relay mode's bounce
constexpr size_t kBigFile = 3 << 20;

uint8_t pattern(size_t at) { return static_cast<uint8_t>((at * 131) ^ (at >> 11)); }

struct Reply {
  fuse_out_header h{};
  std::vector<uint8_t> body;
};

class FsRelayTest : public ::testing::TestWithParam<bool> {
 public:
  // The share and the device, made before guest RAM as the VMM makes them:
  // the file server, forked, then inherits no mapping of it.
  std::shared_ptr<fs::FsDevice> start_device() {
    std::filesystem::create_directories(share / "sub");
    std::ofstream big(share / "big", std::ios::binary);
    for (size_t i = 0; i < kBigFile; ++i) big.put(static_cast<char>(pattern(i)));
    big.close();
    fs::FsConfig cfg;
    cfg.tag = "t";
    cfg.server.shared_dir = share;
    cfg.server.max_write = kMaxWrite;
    cfg.relay = GetParam();
    return std::make_shared<fs::FsDevice>(cfg);
  }

  void SetUp() override {
    transport = std::make_unique<virtio::MmioTransport>(mem, device);
    ASSERT_FALSE(test::bring_up(*transport, {&hiprio, &requests}) & VIRTIO_CONFIG_S_NEEDS_RESET);
    fuse_init_in init{};
    init.major = FUSE_KERNEL_VERSION;
    init.minor = FUSE_KERNEL_MINOR_VERSION;
    ASSERT_EQ(call(FUSE_INIT, 0, bytes_of(init)).h.error, 0);
  }

  // Posts a request: its bytes split into `in_parts` descriptors, then one
  // writable descriptor of each size in `out_parts` for the reply.
  uint16_t post(uint32_t opcode, uint64_t nodeid, std::span<const uint8_t> args,
                std::vector<uint32_t> out_parts = {4096}, size_t in_parts = 1) {
    fuse_in_header h{};
    h.len = static_cast<uint32_t>(sizeof h + args.size());
    h.opcode = opcode;
    h.nodeid = nodeid;
    h.unique = ++unique;
    std::vector<uint8_t> bytes = bytes_of(h);
    bytes.insert(bytes.end(), args.begin(), args.end());
    std::vector<test::Buffer> bufs;
    size_t step = (bytes.size() + in_parts - 1) / in_parts;
    for (size_t at = 0; at < bytes.size(); at += step) {
      size_t n = std::min(step, bytes.size() - at);
      bufs.push_back({rq->alloc_bytes({bytes.data() + at, n}), static_cast<uint32_t>(n)});
    }
    std::vector<test::Buffer> outs;
    for (uint32_t len : out_parts) outs.push_back({rq->alloc(len, 0xee), len, true});
    bufs.insert(bufs.end(), outs.begin(), outs.end());
    uint16_t head = indirect ? rq->add_indirect(bufs) : rq->add(bufs);
    posted[head] = outs;
    unique_of[head] = h.unique;
    if (notify) mmio_write(*transport, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    return head;
  }
  // Off: post() only adds to the ring, for a burst the test notifies once.
  bool notify = true;

  // The reply to `head`, read back from its buffers in order.
  Reply wait(uint16_t head) {
    for (int i = 0; i < 10000 && !done.count(head); ++i) {
      for (auto u : rq->take_used()) done[static_cast<uint16_t>(u.id)] = u.len;
      if (!done.count(head)) std::this_thread::sleep_for(1ms);
    }
    Reply r;
    if (!done.count(head)) {
      ADD_FAILURE() << "no reply to head " << head;
      return r;
    }
    uint32_t left = done[head];
    done.erase(head);
    std::vector<uint8_t> all;
    for (const test::Buffer& b : posted[head]) {
      uint32_t n = std::min(left, b.len);
      std::vector<uint8_t> part(n);
      mem.read(b.gpa, part);
      all.insert(all.end(), part.begin(), part.end());
      left -= n;
    }
    EXPECT_GE(all.size(), sizeof r.h);
    if (all.size() < sizeof r.h) return r;
    std::memcpy(&r.h, all.data(), sizeof r.h);
    EXPECT_EQ(r.h.len, all.size()) << "used length and reply length differ";
    EXPECT_EQ(r.h.unique, unique_of[head]);
    r.body.assign(all.begin() + sizeof r.h, all.end());
    return r;
  }

  Reply call(uint32_t opcode, uint64_t nodeid, std::span<const uint8_t> args,
             std::vector<uint32_t> out_parts = {4096}, size_t in_parts = 1) {
    return wait(post(opcode, nodeid, args, std::move(out_parts), in_parts));
  }

  template <typename T>
  static T body_as(const Reply& r, size_t at = 0) {
    T v{};
    if (r.body.size() >= at + sizeof v) std::memcpy(&v, r.body.data() + at, sizeof v);
    return v;
  }

  fuse_entry_out lookup(uint64_t parent, const std::string& name) {
    std::vector<uint8_t> arg(name.begin(), name.end());
    arg.push_back(0);
    Reply r = call(FUSE_LOOKUP, parent, arg);
    EXPECT_EQ(r.h.error, 0) << name;
    return body_as<fuse_entry_out>(r);
  }

  uint64_t open(uint64_t nodeid, uint32_t opcode = FUSE_OPEN, uint32_t flags = O_RDONLY) {
    fuse_open_in in{};
    in.flags = flags;
    Reply r = call(opcode, nodeid, bytes_of(in));
    EXPECT_EQ(r.h.error, 0);
    return body_as<fuse_open_out>(r).fh;
  }

  uint16_t post_read(uint64_t nodeid, uint64_t fh, uint64_t offset, uint32_t size,
                     std::vector<uint32_t> out_parts) {
    fuse_read_in in{};
    in.fh = fh;
    in.offset = offset;
    in.size = size;
    return post(FUSE_READ, nodeid, bytes_of(in), std::move(out_parts));
  }

  // Whether `body` is the big file's bytes from `offset`.
  static bool is_big_file_at(const std::vector<uint8_t>& body, size_t offset) {
    for (size_t i = 0; i < body.size(); ++i)
      if (body[i] != pattern(offset + i)) return false;
    return true;
  }

  uint32_t wait_status(uint32_t bit) {
    uint32_t status = 0;
    for (int i = 0; i < 5000 && !(status & bit); ++i) {
      status = mmio_read(*transport, VIRTIO_MMIO_STATUS);
      if (!(status & bit)) std::this_thread::sleep_for(1ms);
    }
    return status;
  }

  TempDir dir{"fs-relay-test"};
  std::filesystem::path share = dir.path() / "share";
  std::shared_ptr<fs::FsDevice> device = start_device();
  GuestMemory mem = GuestMemory::create(64 << 20);
  test::VirtioDriver hiprio{mem, 16, 0x10000, 0x100000};
  test::VirtioDriver requests{mem, 64, 0x20000, 0x400000};
  test::VirtioDriver* rq = &requests;  // where post() and wait() go
  bool indirect = false;               // post() through an indirect table
  std::unique_ptr<virtio::MmioTransport> transport;
  uint64_t unique = 0;
  std::map<uint16_t, std::vector<test::Buffer>> posted;  // reply buffers by head
  std::map<uint16_t, uint32_t> done;                     // used length by head
  std::map<uint16_t, uint64_t> unique_of;                // request ids by head
};

INSTANTIATE_TEST_SUITE_P(Modes, FsRelayTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Relay" : "Direct"; });

TEST_P(FsRelayTest, LooksUpAndReadsAFileIntoManySmallBuffers) {
  fuse_entry_out e = lookup(FUSE_ROOT_ID, "big");
  EXPECT_EQ(e.attr.size, kBigFile);
  uint64_t fh = open(e.nodeid);
  // As large as the server reads at once, into 4 KiB pieces, at offsets
  // across the file: the relay's copy back fills the pieces in order.
  for (uint64_t offset : {uint64_t{0}, uint64_t{1 << 20} + 100, uint64_t{kBigFile - kMaxWrite}}) {
    std::vector<uint32_t> pieces(16, 4096);
    pieces.insert(pieces.begin(), sizeof(fuse_out_header));
    Reply r = wait(post_read(e.nodeid, fh, offset, kMaxWrite, pieces));
    ASSERT_EQ(r.h.error, 0);
    ASSERT_EQ(r.body.size(), kMaxWrite);
    EXPECT_TRUE(is_big_file_at(r.body, offset)) << "offset " << offset;
  }
  // Past the end: a short read, the used length saying how short.
  Reply tail = wait(post_read(e.nodeid, fh, kBigFile - 10, 4096, {4096}));
  EXPECT_EQ(tail.body.size(), 10u);
  EXPECT_TRUE(is_big_file_at(tail.body, kBigFile - 10));
}

TEST_P(FsRelayTest, WritesAFileFromManyBuffers) {
  fuse_create_in create{};
  create.flags = O_RDWR | O_CREAT;
  create.mode = S_IFREG | 0644;
  Reply c = call(FUSE_CREATE, FUSE_ROOT_ID, bytes_of(create, "new"));
  ASSERT_EQ(c.h.error, 0);
  auto entry = body_as<fuse_entry_out>(c);
  auto opened = body_as<fuse_open_out>(c, sizeof(fuse_entry_out));
  fuse_write_in in{};
  in.fh = opened.fh;
  in.offset = 4096;
  in.size = kMaxWrite;
  std::vector<uint8_t> args = bytes_of(in);
  for (size_t i = 0; i < kMaxWrite; ++i) args.push_back(pattern(i));
  Reply w = call(FUSE_WRITE, entry.nodeid, args, {4096}, 9);
  ASSERT_EQ(w.h.error, 0);
  EXPECT_EQ(body_as<fuse_write_out>(w).size, kMaxWrite);
  std::ifstream f(share / "new", std::ios::binary);
  std::vector<uint8_t> host((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_EQ(host.size(), 4096 + kMaxWrite);
  EXPECT_TRUE(is_big_file_at(std::vector<uint8_t>(host.begin() + 4096, host.end()), 0));
}

TEST_P(FsRelayTest, ReadsTheDirectory) {
  std::ofstream(share / "small") << "x";
  uint64_t fh = open(FUSE_ROOT_ID, FUSE_OPENDIR, O_RDONLY | O_DIRECTORY);
  fuse_read_in in{};
  in.fh = fh;
  in.size = 4096;
  Reply r = call(FUSE_READDIR, FUSE_ROOT_ID, bytes_of(in), {1000, 3096});
  ASSERT_EQ(r.h.error, 0);
  std::set<std::string> names;
  for (size_t at = 0; at + sizeof(fuse_dirent) <= r.body.size();) {
    auto d = body_as<fuse_dirent>(r, at);
    if (at + FUSE_NAME_OFFSET + d.namelen > r.body.size()) break;
    names.emplace(reinterpret_cast<const char*>(r.body.data() + at + FUSE_NAME_OFFSET), d.namelen);
    at += FUSE_DIRENT_SIZE(&d);
  }
  EXPECT_EQ(names, (std::set<std::string>{".", "..", "big", "small", "sub"}));
}

// 24 READs of 64 KiB at once: relay mode's bounce memory holds about 12, so
// the rest wait on the guest's ring until replies free room.
TEST_P(FsRelayTest, MoreLargeReadsThanTheBounceMemoryHoldsAllComplete) {
  fuse_entry_out e = lookup(FUSE_ROOT_ID, "big");
  uint64_t fh = open(e.nodeid);
  std::vector<std::pair<uint16_t, uint64_t>> reads;
  // All on the ring before one notification: the relay takes them in one
  // go and must wait for room (posted one by one, a fast server could keep
  // the bounce from ever filling).
  notify = false;
  for (uint64_t i = 0; i < 24; ++i) {
    uint64_t offset = i * kMaxWrite;
    reads.emplace_back(post_read(e.nodeid, fh, offset, kMaxWrite, {kMaxWrite + 16}), offset);
  }
  notify = true;
  mmio_write(*transport, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
  for (auto [head, offset] : reads) {
    Reply r = wait(head);
    EXPECT_EQ(r.h.error, 0);
    EXPECT_EQ(r.body.size(), kMaxWrite);
    EXPECT_TRUE(is_big_file_at(r.body, offset)) << "offset " << offset;
  }
  const fs::RelayStats& stats = device->relay_stats();
  if (GetParam()) {
    EXPECT_GT(stats.waits.load(), 0u);
    EXPECT_EQ(stats.relayed.load(), 3u + 24u);  // INIT, LOOKUP, OPEN and the READs
  } else {
    EXPECT_EQ(stats.relayed.load(), 0u);
  }
  EXPECT_EQ(device->counters().requests[FUSE_READ].load(), 24u);
}

// A driver reset while READs are in flight and (relay mode) waiting for
// bounce space: the device stops, and serves the next driver from scratch.
TEST_P(FsRelayTest, AResetWithRequestsInFlightStartsAfresh) {
  fuse_entry_out e = lookup(FUSE_ROOT_ID, "big");
  uint64_t fh = open(e.nodeid);
  for (uint64_t i = 0; i < 24; ++i)
    post_read(e.nodeid, fh, i * kMaxWrite, kMaxWrite, {kMaxWrite + 16});
  mmio_write(*transport, VIRTIO_MMIO_STATUS, 0);
  ASSERT_EQ(mmio_read(*transport, VIRTIO_MMIO_STATUS), 0u);
  uint64_t relayed = device->relay_stats().relayed.load();
  // Nothing of the old queues moves once reset() returned.
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(device->relay_stats().relayed.load(), relayed);
  test::VirtioDriver hiprio2{mem, 16, 0x30000, 0x2000000};
  test::VirtioDriver requests2{mem, 64, 0x40000, 0x2400000};
  ASSERT_FALSE(test::bring_up(*transport, {&hiprio2, &requests2}) & VIRTIO_CONFIG_S_NEEDS_RESET);
  rq = &requests2;
  posted.clear();
  done.clear();
  fuse_init_in init{FUSE_KERNEL_VERSION, FUSE_KERNEL_MINOR_VERSION};
  EXPECT_EQ(call(FUSE_INIT, 0, bytes_of(init)).h.error, 0);
  fuse_entry_out again = lookup(FUSE_ROOT_ID, "big");
  Reply r =
      wait(post_read(again.nodeid, open(again.nodeid), kMaxWrite, kMaxWrite, {kMaxWrite + 16}));
  EXPECT_EQ(r.body.size(), kMaxWrite);
  EXPECT_TRUE(is_big_file_at(r.body, kMaxWrite));
}

// A driver that negotiated EVENT_IDX and INDIRECT_DESC, as Linux does:
// chains through indirect tables, eight large READs at once.
TEST_P(FsRelayTest, ServesIndirectChainsWithEventIdx) {
  mmio_write(*transport, VIRTIO_MMIO_STATUS, 0);
  test::VirtioDriver hiprio2{mem, 16, 0x30000, 0x2000000};
  test::VirtioDriver requests2{mem, 64, 0x40000, 0x2400000};
  uint64_t features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |
                      (1ull << VIRTIO_RING_F_INDIRECT_DESC);
  ASSERT_FALSE(test::bring_up(*transport, {&hiprio2, &requests2}, features) &
               VIRTIO_CONFIG_S_NEEDS_RESET);
  rq = &requests2;
  indirect = true;
  posted.clear();
  done.clear();
  fuse_init_in init{FUSE_KERNEL_VERSION, FUSE_KERNEL_MINOR_VERSION};
  ASSERT_EQ(call(FUSE_INIT, 0, bytes_of(init)).h.error, 0);
  fuse_entry_out e = lookup(FUSE_ROOT_ID, "big");
  uint64_t fh = open(e.nodeid);
  std::vector<std::pair<uint16_t, uint64_t>> reads;
  for (uint64_t i = 0; i < 8; ++i) {
    uint64_t offset = 5000 + i * kMaxWrite;
    reads.emplace_back(
        post_read(e.nodeid, fh, offset, kMaxWrite, {16, kMaxWrite / 2, kMaxWrite / 2}), offset);
  }
  for (auto [head, offset] : reads) {
    Reply r = wait(head);
    EXPECT_EQ(r.body.size(), kMaxWrite);
    EXPECT_TRUE(is_big_file_at(r.body, offset)) << "offset " << offset;
  }
}

TEST_P(FsRelayTest, AMalformedChainNeedsResetAndTheDeviceStartsAgain) {
  uint64_t in = requests.alloc(64);
  requests.add({{in, 64}, {mem.size() - 8, 4096, true}});  // reply buffer past RAM
  mmio_write(*transport, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
  EXPECT_TRUE(wait_status(VIRTIO_CONFIG_S_NEEDS_RESET) & VIRTIO_CONFIG_S_NEEDS_RESET);
  mmio_write(*transport, VIRTIO_MMIO_STATUS, 0);
  test::VirtioDriver hiprio2{mem, 16, 0x30000, 0x2000000}, requests2{mem, 16, 0x40000, 0x2400000};
  ASSERT_FALSE(test::bring_up(*transport, {&hiprio2, &requests2}) & VIRTIO_CONFIG_S_NEEDS_RESET);
  fuse_init_in init{FUSE_KERNEL_VERSION, FUSE_KERNEL_MINOR_VERSION};
  auto bytes = bytes_of(fuse_in_header{sizeof(fuse_in_header) + sizeof init, FUSE_INIT, 99}, init);
  uint64_t out = requests2.alloc(4096);
  requests2.add(
      {{requests2.alloc_bytes(bytes), static_cast<uint32_t>(bytes.size())}, {out, 4096, true}});
  mmio_write(*transport, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
  std::vector<test::Used> used;
  for (int i = 0; i < 5000 && used.empty(); ++i) {
    used = requests2.take_used();
    if (used.empty()) std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(mem.read_obj<fuse_out_header>(out).unique, 99u);
}

}  // namespace
}  // namespace vmrt::vmm
