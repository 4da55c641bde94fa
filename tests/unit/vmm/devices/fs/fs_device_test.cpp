// virtio-fs through its virtio-mmio transport with a simulated driver: the
// configuration space, a FUSE INIT answered on a request queue, a FORGET on
// the high-priority queue that takes no reply, and a shared directory that
// vanished before the driver comes back; the device starting, serving and
// starting again after a driver reset on a control thread confined with the
// device role's seccomp filter; and its file server process: confined with
// the file server role, failing to start with its reason, dying (the device
// needs a reset), and reaped with the device.
#include "vmm/devices/fs/fs_device.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "common/tempdir.h"
#include "tests/support/bytes_of.h"
#include "tests/support/virtio_mmio_driver.h"
#include "vmm/security/confine.h"

namespace vmrt::vmm {
namespace {

using namespace std::chrono_literals;
using test::mmio_read;
using test::mmio_write;
using ::vmrt::test::bytes_of;

class FsDeviceTest : public ::testing::TestWithParam<bool> {
 public:
  void SetUp() override {
    std::filesystem::create_directory(share);
    fs::FsConfig cfg;
    cfg.tag = "myshare";
    cfg.server.shared_dir = share;
    cfg.relay = GetParam();
    device = std::make_shared<fs::FsDevice>(cfg);
    transport = std::make_unique<virtio::MmioTransport>(mem, device);
  }

  // Sends FUSE_INIT on `q` (a request queue) and returns the reply header
  // and the used length; unique 0 when nothing came back.
  std::pair<fuse_out_header, uint32_t> send_init(test::VirtioDriver& q, virtio::MmioTransport& t) {
    struct {
      fuse_in_header h;
      fuse_init_in init;
    } req{};
    req.h.len = sizeof req;
    req.h.opcode = FUSE_INIT;
    req.h.unique = 7;
    req.init.major = FUSE_KERNEL_VERSION;
    req.init.minor = FUSE_KERNEL_MINOR_VERSION;
    req.init.max_readahead = 1 << 20;
    uint64_t in = q.alloc_bytes({reinterpret_cast<uint8_t*>(&req), sizeof req});
    init_out = q.alloc(4096);
    q.add({{in, sizeof req}, {init_out, 4096, true}});
    mmio_write(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    auto used = wait_used(q);
    if (used.size() != 1) return {};
    return {mem.read_obj<fuse_out_header>(init_out), used[0].len};
  }

  std::vector<test::Used> wait_used(test::VirtioDriver& q) {
    for (int i = 0; i < 5000; ++i) {
      auto used = q.take_used();
      if (!used.empty()) return used;
      std::this_thread::sleep_for(1ms);
    }
    return {};
  }

  // Posts one FUSE request (`args` after the header) with a 4 KiB reply
  // buffer on the request queue; the chain's head and the reply's address.
  std::pair<uint16_t, uint64_t> submit(virtio::MmioTransport& t, uint32_t opcode, uint64_t nodeid,
                                       uint64_t unique, std::span<const uint8_t> args) {
    fuse_in_header h{};
    h.len = static_cast<uint32_t>(sizeof h + args.size());
    h.opcode = opcode;
    h.nodeid = nodeid;
    h.unique = unique;
    std::vector<uint8_t> bytes(sizeof h);
    std::memcpy(bytes.data(), &h, sizeof h);
    bytes.insert(bytes.end(), args.begin(), args.end());
    uint64_t in = requests.alloc_bytes(bytes);
    uint64_t out = requests.alloc(4096);
    uint16_t head = requests.add({{in, h.len}, {out, 4096, true}});
    mmio_write(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    return {head, out};
  }
  // Waits for the used entry of `head`; `order` gets every head used meanwhile.
  std::optional<test::Used> wait_head(uint16_t head, std::vector<uint16_t>& order) {
    for (int i = 0; i < 10000; ++i) {
      for (auto u : requests.take_used()) {
        order.push_back(static_cast<uint16_t>(u.id));
        if (u.id == head) return u;
      }
      std::this_thread::sleep_for(1ms);
    }
    return std::nullopt;
  }
  // A SETLKW parked by the file server while later requests on the same
  // queue are answered; its used entry comes once the lock is free. Then a
  // device reset with a wait still parked. Returns what went wrong, or "".
  std::string lock_wait_completes_out_of_order(virtio::MmioTransport& t);

  // A device whose file server confines itself with the file server role.
  std::shared_ptr<fs::FsDevice> confined_device() {
    fs::FsConfig cfg;
    cfg.tag = "t";
    cfg.server.shared_dir = share;
    cfg.relay = GetParam();
    cfg.confine_server = [] {
      security::confine_thread(security::ThreadRole::FileServer, security::SeccompMode::On);
    };
    return std::make_shared<fs::FsDevice>(cfg);
  }

  TempDir dir{"fs-device-test"};
  std::filesystem::path share = dir.path() / "share";
  GuestMemory mem = GuestMemory::create(16 << 20);
  test::VirtioDriver hiprio{mem, 16, 0x10000, 0x100000};
  test::VirtioDriver requests{mem, 16, 0x20000, 0x400000};
  std::shared_ptr<fs::FsDevice> device;
  std::unique_ptr<virtio::MmioTransport> transport;
  uint64_t init_out = 0;  // where send_init's reply went
};

INSTANTIATE_TEST_SUITE_P(Modes, FsDeviceTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Relay" : "Direct"; });

TEST_P(FsDeviceTest, ConfigurationSpaceHasTheTagAndQueueCount) {
  EXPECT_EQ(mmio_read(*transport, VIRTIO_MMIO_DEVICE_ID), static_cast<uint32_t>(VIRTIO_ID_FS));
  virtio_fs_config cfg{};
  transport->read(0x100, {reinterpret_cast<uint8_t*>(&cfg), sizeof cfg});
  EXPECT_EQ(std::string(reinterpret_cast<char*>(cfg.tag), 7), "myshare");
  EXPECT_EQ(cfg.tag[7], 0);
  EXPECT_EQ(cfg.num_request_queues, 1u);
}

TEST_P(FsDeviceTest, RefusesBadTags) {
  fs::FsConfig cfg;
  cfg.server.shared_dir = share;
  EXPECT_THROW(fs::FsDevice{cfg}, Error);  // empty
  cfg.tag = std::string(37, 'x');
  EXPECT_THROW(fs::FsDevice{cfg}, Error);
}

TEST_P(FsDeviceTest, AnswersFuseInitOnTheRequestQueue) {
  ASSERT_FALSE(test::bring_up(*transport, {&hiprio, &requests}) & VIRTIO_CONFIG_S_NEEDS_RESET);
  auto [reply, used_len] = send_init(requests, *transport);
  EXPECT_EQ(reply.unique, 7u);
  EXPECT_EQ(reply.error, 0);
  EXPECT_EQ(used_len, reply.len);
  auto init = mem.read_obj<fuse_init_out>(init_out + sizeof(fuse_out_header));
  EXPECT_EQ(init.major, static_cast<uint32_t>(FUSE_KERNEL_VERSION));
  // The interrupt follows the used entry: the file server writes the entry,
  // then the VMM's relay raises the interrupt (the driver looks only then).
  uint32_t isr = 0;
  for (int i = 0; i < 5000 && !(isr & VIRTIO_MMIO_INT_VRING); ++i) {
    isr = mmio_read(*transport, VIRTIO_MMIO_INTERRUPT_STATUS);
    if (!(isr & VIRTIO_MMIO_INT_VRING)) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(isr & VIRTIO_MMIO_INT_VRING);
}

// What the file server counts reaches the VMM's view of the counters: each
// request by its opcode, error replies, and requests too short to parse.
TEST_P(FsDeviceTest, CountsRequestsByOpcodeErrorsAndMalformedRequests) {
  ASSERT_FALSE(test::bring_up(*transport, {&hiprio, &requests}) & VIRTIO_CONFIG_S_NEEDS_RESET);
  ASSERT_EQ(send_init(requests, *transport).first.error, 0);
  std::vector<uint16_t> order;
  auto [bmap, bmap_out] = submit(*transport, FUSE_BMAP, 1, 8, {});  // not served: ENOSYS
  ASSERT_TRUE(wait_head(bmap, order));
  EXPECT_EQ(mem.read_obj<fuse_out_header>(bmap_out).error, -ENOSYS);
  uint8_t half_header[8] = {};
  uint64_t in = requests.alloc_bytes(half_header);
  uint16_t head = requests.add({{in, sizeof half_header}, {requests.alloc(4096), 4096, true}});
  mmio_write(*transport, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
  ASSERT_TRUE(wait_head(head, order));
  const fs::FsCounters& c = device->counters();
  EXPECT_EQ(c.requests[FUSE_INIT].load(), 1u);
  EXPECT_EQ(c.requests[FUSE_BMAP].load(), 1u);
  EXPECT_EQ(c.malformed.load(), 1u);
  EXPECT_EQ(c.errors.load(), 2u);  // BMAP's ENOSYS, the short request's EINVAL
  EXPECT_EQ(fs::fuse_opcode_name(FUSE_BMAP), "BMAP");
  EXPECT_EQ(fs::fuse_opcode_name(fs::FsCounters::slot(CUSE_INIT)), "OPCODE_63");
}

// The device started and stopped on a control thread confined with the
// device role, its workers inheriting the filter: INIT is answered before
// and after a driver reset (a new server). In a child process, since a
// violation kills it: exit 0 only when both answers came.
void serve_across_a_reset_confined(FsDeviceTest& t);

TEST_P(FsDeviceTest, ServesAcrossAResetOnAConfinedControlThread) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(serve_across_a_reset_confined(*this), testing::ExitedWithCode(0), "");
}

TEST_P(FsDeviceTest, ForgetOnTheHighPriorityQueueTakesNoReply) {
  test::bring_up(*transport, {&hiprio, &requests});
  struct {
    fuse_in_header h;
    fuse_forget_in forget;
  } req{};
  req.h.len = sizeof req;
  req.h.opcode = FUSE_FORGET;
  req.h.nodeid = 12345;  // never looked up: must be ignored, not trusted
  req.forget.nlookup = 1;
  hiprio.add({{hiprio.alloc_bytes({reinterpret_cast<uint8_t*>(&req), sizeof req}), sizeof req}});
  mmio_write(*transport, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  auto used = wait_used(hiprio);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].len, 0u);
}

TEST_P(FsDeviceTest, VanishedShareAtReactivationNeedsReset) {
  test::bring_up(*transport, {&hiprio, &requests});
  mmio_write(*transport, VIRTIO_MMIO_STATUS, 0);  // driver reset
  std::filesystem::remove_all(share);
  test::VirtioDriver hiprio2{mem, 16, 0x30000, 0x800000}, requests2{mem, 16, 0x40000, 0xa00000};
  uint32_t status = test::bring_up(*transport, {&hiprio2, &requests2});
  EXPECT_TRUE(status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

std::string FsDeviceTest::lock_wait_completes_out_of_order(virtio::MmioTransport& t) {
  if (test::bring_up(t, {&hiprio, &requests}) & VIRTIO_CONFIG_S_NEEDS_RESET) return "no start";
  if (send_init(requests, t).first.error != 0) return "INIT failed";
  std::vector<uint16_t> order;
  fuse_create_in create{};
  create.flags = O_RDWR | O_CREAT;
  create.mode = S_IFREG | 0644;
  auto [c, c_out] = submit(t, FUSE_CREATE, FUSE_ROOT_ID, 10, bytes_of(create, "f"));
  if (!wait_head(c, order) || mem.read_obj<fuse_out_header>(c_out).error != 0) return "CREATE";
  auto entry = mem.read_obj<fuse_entry_out>(c_out + sizeof(fuse_out_header));
  auto opened =
      mem.read_obj<fuse_open_out>(c_out + sizeof(fuse_out_header) + sizeof(fuse_entry_out));
  auto lock = [&](uint32_t op, uint64_t owner, uint32_t type, uint64_t unique) {
    fuse_lk_in in{};
    in.fh = opened.fh;
    in.owner = owner;
    in.lk = {0, INT64_MAX, type, 0};
    return submit(t, op, entry.nodeid, unique, bytes_of(in));
  };
  auto [a, a_out] = lock(FUSE_SETLK, 1, F_WRLCK, 11);
  if (!wait_head(a, order) || mem.read_obj<fuse_out_header>(a_out).error != 0) return "A's SETLK";
  auto [b, b_out] = lock(FUSE_SETLKW, 2, F_WRLCK, 12);  // B waits: parked
  auto g = submit(t, FUSE_GETATTR, FUSE_ROOT_ID, 13, bytes_of(fuse_getattr_in{}));
  if (!wait_head(g.first, order)) return "GETATTR after the parked SETLKW was not answered";
  if (std::find(order.begin(), order.end(), b) != order.end())
    return "the SETLKW was answered while the lock was held";
  lock(FUSE_SETLK, 1, F_UNLCK, 14);  // A unlocks
  auto used = wait_head(b, order);
  if (!used) return "the SETLKW was not answered after the unlock";
  auto reply = mem.read_obj<fuse_out_header>(b_out);
  if (reply.unique != 12 || reply.error != 0 || used->len != sizeof reply)
    return fmt::format("SETLKW reply: unique {} error {} len {}", reply.unique, reply.error,
                       used->len);
  lock(FUSE_SETLKW, 3, F_WRLCK, 15);     // parked: B holds the lock now
  mmio_write(t, VIRTIO_MMIO_STATUS, 0);  // the driver resets with a wait parked
  if (mmio_read(t, VIRTIO_MMIO_STATUS) != 0) return "reset";
  return "";
}

TEST_P(FsDeviceTest, ParkedLockWaitIsAnsweredOutOfOrderAndResetEndsIt) {
  EXPECT_EQ(lock_wait_completes_out_of_order(*transport), "");
}

void lock_wait_in_a_confined_server(FsDeviceTest& t);

TEST_P(FsDeviceTest, ParkedLockWaitsWorkInAConfinedServer) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(lock_wait_in_a_confined_server(*this), testing::ExitedWithCode(0), "");
}

void lock_wait_in_a_confined_server(FsDeviceTest& t) {
  virtio::MmioTransport transport(t.mem, t.confined_device());
  std::string why = t.lock_wait_completes_out_of_order(transport);
  transport.shutdown();
  std::filesystem::remove_all(t.dir.path());
  std::fputs(why.empty() ? "ok" : why.c_str(), stderr);
  std::_Exit(why.empty() ? 0 : 1);
}

std::string comm_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

bool process_exists(pid_t pid) {
  struct stat st;
  return ::stat(("/proc/" + std::to_string(pid)).c_str(), &st) == 0;
}

TEST_P(FsDeviceTest, TheFileServerIsAProcessOfItsOwnReapedWithTheDevice) {
  pid_t pid = device->server_pid();
  ASSERT_GT(pid, 0);
  EXPECT_NE(pid, ::getpid());
  EXPECT_EQ(comm_of(pid), "vmrt-fs-server");
  ASSERT_FALSE(test::bring_up(*transport, {&hiprio, &requests}) & VIRTIO_CONFIG_S_NEEDS_RESET);
  transport.reset();
  device.reset();
  // Reaped, not a zombie: the pid is gone at once.
  EXPECT_FALSE(process_exists(pid));
}

TEST_P(FsDeviceTest, AServerThatCannotConfineItselfFailsTheDeviceWithItsReason) {
  fs::FsConfig cfg;
  cfg.tag = "t";
  cfg.server.shared_dir = share;
  cfg.confine_server = [] { throw Error("no jail for you"); };
  try {
    fs::FsDevice d(cfg);
    ADD_FAILURE() << "constructed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no jail for you"), std::string::npos) << e.what();
  }
  cfg.confine_server = {};
  cfg.server.shared_dir = dir.path() / "missing";
  EXPECT_THROW(fs::FsDevice{cfg}, Error);
}

TEST_P(FsDeviceTest, AServerThatDiesPutsTheDeviceIntoNeedsReset) {
  ASSERT_FALSE(test::bring_up(*transport, {&hiprio, &requests}) & VIRTIO_CONFIG_S_NEEDS_RESET);
  ASSERT_EQ(::kill(device->server_pid(), SIGKILL), 0);
  uint32_t status = 0;
  for (int i = 0; i < 5000 && !(status & VIRTIO_CONFIG_S_NEEDS_RESET); ++i) {
    status = mmio_read(*transport, VIRTIO_MMIO_STATUS);
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(status & VIRTIO_CONFIG_S_NEEDS_RESET);
  EXPECT_TRUE(mmio_read(*transport, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
  // The driver's reset and a new start fail cleanly instead of hanging.
  mmio_write(*transport, VIRTIO_MMIO_STATUS, 0);
  test::VirtioDriver hiprio2{mem, 16, 0x30000, 0x800000}, requests2{mem, 16, 0x40000, 0xa00000};
  EXPECT_TRUE(test::bring_up(*transport, {&hiprio2, &requests2}) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

// The server confined with the file server role answers INIT and creates
// a file in the share: its filter allows what the passthrough calls. In a
// child, since a violation kills the server and the test would hang on it.
void serve_with_a_confined_server(FsDeviceTest& t);

TEST_P(FsDeviceTest, AServerConfinedWithTheFileServerRoleServes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(serve_with_a_confined_server(*this), testing::ExitedWithCode(0), "");
}

void serve_with_a_confined_server(FsDeviceTest& t) {
  virtio::MmioTransport transport(t.mem, t.confined_device());
  bool ok = !(test::bring_up(transport, {&t.hiprio, &t.requests}) & VIRTIO_CONFIG_S_NEEDS_RESET);
  ok = ok && t.send_init(t.requests, transport).first.unique == 7;
  struct {
    fuse_in_header h;
    fuse_create_in create;
    char name[8];
  } req{};
  req.h.len = sizeof req;
  req.h.opcode = FUSE_CREATE;
  req.h.unique = 8;
  req.h.nodeid = FUSE_ROOT_ID;
  req.create.flags = O_WRONLY | O_CREAT;
  req.create.mode = S_IFREG | 0644;
  std::memcpy(req.name, "made", 5);
  uint64_t in = t.requests.alloc_bytes({reinterpret_cast<uint8_t*>(&req), sizeof req});
  uint64_t out = t.requests.alloc(4096);
  t.requests.add({{in, sizeof req}, {out, 4096, true}});
  mmio_write(transport, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
  ok = ok && t.wait_used(t.requests).size() == 1;
  ok = ok && t.mem.read_obj<fuse_out_header>(out).error == 0;
  ok = ok && std::filesystem::exists(t.share / "made");
  transport.shutdown();
  // _Exit runs no destructor: the fixture's directory goes first.
  std::filesystem::remove_all(t.dir.path());
  std::_Exit(ok ? 0 : 1);
}

void serve_across_a_reset_confined(FsDeviceTest& t) {
  virtio::DeviceControlThread control(
      [] { security::confine_thread(security::ThreadRole::Device, security::SeccompMode::On); });
  virtio::MmioTransport confined(t.mem, t.device, &control);
  bool ok = !(test::bring_up(confined, {&t.hiprio, &t.requests}) & VIRTIO_CONFIG_S_NEEDS_RESET);
  ok = ok && t.send_init(t.requests, confined).first.unique == 7;
  mmio_write(confined, VIRTIO_MMIO_STATUS, 0);  // driver reset: the server goes
  test::VirtioDriver hiprio2{t.mem, 16, 0x30000, 0x800000};
  test::VirtioDriver requests2{t.mem, 16, 0x40000, 0xa00000};
  ok = ok && !(test::bring_up(confined, {&hiprio2, &requests2}) & VIRTIO_CONFIG_S_NEEDS_RESET);
  ok = ok && t.send_init(requests2, confined).first.unique == 7;
  confined.shutdown();
  // _Exit runs no destructor: the fixture's directory goes first.
  std::filesystem::remove_all(t.dir.path());
  std::_Exit(ok ? 0 : 1);
}

}  // namespace
}  // namespace vmrt::vmm
