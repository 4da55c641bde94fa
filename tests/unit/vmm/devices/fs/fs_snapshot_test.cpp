// Snapshots of virtio-fs: a device the guest never used is saved with its
// tag and restores into a device with the same tag (a fresh file server at
// the rings' start); one the guest has sent requests to is refused, as is a
// restore with another tag or with queues past their start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/virtio_mmio.h>

#include <chrono>
#include <thread>

#include "common/tempdir.h"
#include "tests/support/error_text.h"
#include "tests/support/virtio_mmio_driver.h"
#include "vmm/devices/fs/fs_device.h"

namespace vmrt::vmm {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using vmrt::test::error_text;

class FsSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directory(share);
    device = make_device("myshare");
    transport = std::make_unique<virtio::MmioTransport>(mem, device);
  }
  std::shared_ptr<fs::FsDevice> make_device(const std::string& tag) {
    fs::FsConfig cfg;
    cfg.tag = tag;
    cfg.server.shared_dir = share;
    return std::make_shared<fs::FsDevice>(cfg);
  }
  void bring_up() {
    ASSERT_FALSE(test::bring_up(*transport, {&hiprio, &requests}) & VIRTIO_CONFIG_S_NEEDS_RESET);
  }
  // A request through `t` (too short for a FUSE header: the server answers
  // it with EINVAL, which is use enough); true once answered.
  bool request(virtio::MmioTransport& t) {
    uint8_t half_header[8] = {};
    requests.add({{requests.alloc_bytes(half_header), sizeof half_header},
                  {requests.alloc(4096), 4096, true}});
    test::mmio_write(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    for (int i = 0; i < 5000; ++i) {
      if (!requests.take_used().empty()) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }

  TempDir dir{"fs-snap"};
  std::filesystem::path share = dir.path() / "share";
  GuestMemory mem = GuestMemory::create(16 << 20);
  test::VirtioDriver hiprio{mem, 16, 0x10000, 0x100000};
  test::VirtioDriver requests{mem, 16, 0x20000, 0x400000};
  std::shared_ptr<fs::FsDevice> device;
  std::unique_ptr<virtio::MmioTransport> transport;
};

TEST_F(FsSnapshotTest, AnUnusedDeviceRestoresWithTheSameTagOnly) {
  bring_up();
  transport->quiesce();
  nlohmann::json j = transport->save_state();
  EXPECT_EQ(j.at("device").at("tag"), "myshare");
  EXPECT_EQ(j.at("queues")[1].at("next_avail"), 0);

  virtio::MmioTransport wrong(mem, make_device("other"));
  EXPECT_THAT(error_text([&] { wrong.restore_state(j); }),
              HasSubstr("the snapshot's tag is \"myshare\", this device's is \"other\""));

  nlohmann::json moved = j;
  moved["queues"][1]["next_avail"] = moved["queues"][1]["next_used"] = 3;
  virtio::MmioTransport past(mem, make_device("myshare"));
  EXPECT_THAT(error_text([&] { past.restore_state(moved); }),
              HasSubstr("serves its queues from the ring's start only"));

  // The first device's server is idle; the restored one answers the guest.
  transport.reset();
  virtio::MmioTransport restored(mem, make_device("myshare"));
  restored.restore_state(j);
  EXPECT_TRUE(request(restored));
}

TEST_F(FsSnapshotTest, ADeviceTheGuestUsedIsRefused) {
  bring_up();
  ASSERT_TRUE(request(*transport));
  EXPECT_THAT(error_text([&] { transport->quiesce(); }),
              HasSubstr("only a virtio-fs device the guest never mounted can be snapshotted"));
  // A request posted but not answered (nor notified, so the server cannot
  // have seen it) says so first.
  requests.add({{requests.alloc(8), 8}});
  EXPECT_THAT(error_text([&] { transport->quiesce(); }),
              HasSubstr("queue 1: 1 requests in flight"));
}

}  // namespace
}  // namespace vmrt::vmm
