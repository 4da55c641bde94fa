// virtio-fs through its virtio-mmio transport with a simulated driver: the
// configuration space, a FUSE INIT answered on a request queue, a FORGET on
// the high-priority queue that takes no reply, and a shared directory that
// vanished before the driver comes back.
#include "vmm/devices/fs/fs_device.h"

#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/tempdir.h"
#include "tests/support/virtio_mmio_driver.h"

namespace vmrt::vmm {
namespace {

using namespace std::chrono_literals;
using test::mmio_read;
using test::mmio_write;

class FsDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directory(share);
    fs::FsConfig cfg;
    cfg.tag = "myshare";
    cfg.server.shared_dir = share;
    device = std::make_shared<fs::FsDevice>(cfg);
    transport = std::make_unique<virtio::MmioTransport>(mem, device);
  }

  std::vector<test::Used> wait_used(test::VirtioDriver& q) {
    for (int i = 0; i < 5000; ++i) {
      auto used = q.take_used();
      if (!used.empty()) return used;
      std::this_thread::sleep_for(1ms);
    }
    return {};
  }

  TempDir dir{"fs-device-test"};
  std::filesystem::path share = dir.path() / "share";
  GuestMemory mem = GuestMemory::create(16 << 20);
  test::VirtioDriver hiprio{mem, 16, 0x10000, 0x100000};
  test::VirtioDriver requests{mem, 16, 0x20000, 0x400000};
  std::shared_ptr<fs::FsDevice> device;
  std::unique_ptr<virtio::MmioTransport> transport;
};

TEST_F(FsDeviceTest, ConfigurationSpaceHasTheTagAndQueueCount) {
  EXPECT_EQ(mmio_read(*transport, VIRTIO_MMIO_DEVICE_ID), static_cast<uint32_t>(VIRTIO_ID_FS));
  virtio_fs_config cfg{};
  transport->read(0x100, {reinterpret_cast<uint8_t*>(&cfg), sizeof cfg});
  EXPECT_EQ(std::string(reinterpret_cast<char*>(cfg.tag), 7), "myshare");
  EXPECT_EQ(cfg.tag[7], 0);
  EXPECT_EQ(cfg.num_request_queues, 1u);
}

TEST_F(FsDeviceTest, RefusesBadTags) {
  fs::FsConfig cfg;
  cfg.server.shared_dir = share;
  EXPECT_THROW(fs::FsDevice{cfg}, Error);  // empty
  cfg.tag = std::string(37, 'x');
  EXPECT_THROW(fs::FsDevice{cfg}, Error);
}

TEST_F(FsDeviceTest, AnswersFuseInitOnTheRequestQueue) {
  ASSERT_FALSE(test::bring_up(*transport, {&hiprio, &requests}) & VIRTIO_CONFIG_S_NEEDS_RESET);
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
  uint64_t in = requests.alloc_bytes({reinterpret_cast<uint8_t*>(&req), sizeof req});
  uint64_t out = requests.alloc(4096);
  requests.add({{in, sizeof req}, {out, 4096, true}});
  mmio_write(*transport, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
  auto used = wait_used(requests);
  ASSERT_EQ(used.size(), 1u);
  auto reply = mem.read_obj<fuse_out_header>(out);
  EXPECT_EQ(reply.unique, 7u);
  EXPECT_EQ(reply.error, 0);
  EXPECT_EQ(used[0].len, reply.len);
  auto init = mem.read_obj<fuse_init_out>(out + sizeof(fuse_out_header));
  EXPECT_EQ(init.major, static_cast<uint32_t>(FUSE_KERNEL_VERSION));
  EXPECT_TRUE(mmio_read(*transport, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING);
}

TEST_F(FsDeviceTest, ForgetOnTheHighPriorityQueueTakesNoReply) {
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

TEST_F(FsDeviceTest, VanishedShareAtReactivationNeedsReset) {
  test::bring_up(*transport, {&hiprio, &requests});
  mmio_write(*transport, VIRTIO_MMIO_STATUS, 0);  // driver reset
  std::filesystem::remove_all(share);
  test::VirtioDriver hiprio2{mem, 16, 0x30000, 0x800000}, requests2{mem, 16, 0x40000, 0xa00000};
  uint32_t status = test::bring_up(*transport, {&hiprio2, &requests2});
  EXPECT_TRUE(status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

}  // namespace
}  // namespace vmrt::vmm
