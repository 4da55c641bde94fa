// Snapshots of a virtio-mmio transport with a fake device that serves its
// queues only when the test says so: a driver brings it up through the
// registers and has chains processed, the transport is quiesced and saved,
// and a fresh transport and device restored from that state carry on where
// the first stopped. Then every malformed or mismatched state is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include <optional>

#include "common/error.h"
#include "tests/support/error_text.h"
#include "tests/support/fake_virtio_device.h"
#include "tests/support/virtio_driver.h"
#include "tests/support/virtio_mmio_driver.h"
#include "vmm/virtio/mmio_transport.h"
#include "vmm/virtio/mmio_transport_state.h"

namespace vmrt::vmm {
namespace {

using nlohmann::json;
using test::mmio_read;
using test::mmio_write;
using ::testing::HasSubstr;

using test::FakeDevice;
using test::kFakeFeature;
using test::kFakeType;
constexpr uint16_t kMax = FakeDevice::kMax;

class TransportSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    device = std::make_shared<FakeDevice>();
    transport = std::make_unique<virtio::MmioTransport>(mem, device);
  }
  void bring_up() {
    uint64_t features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |
                        (1ull << VIRTIO_RING_F_INDIRECT_DESC) | kFakeFeature;
    uint32_t st = test::bring_up(*transport, {&q0, &q1}, features);
    ASSERT_TRUE(st & VIRTIO_CONFIG_S_DRIVER_OK);
    ASSERT_TRUE(device->active());
  }
  uint16_t post(uint32_t len) { return q0.add({{q0.alloc(len, 0x5a), len}}); }
  // A driver that ran three chains, then saved.
  json running_state() {
    bring_up();
    for (uint32_t len : {10u, 20u, 30u}) post(len);
    EXPECT_EQ(device->process(), 3);
    EXPECT_EQ(q0.take_used().size(), 3u);
    transport->quiesce();
    return transport->save_state();
  }
  // What restoring `j` into a fresh transport says.
  std::string restore_error(const json& j, uint32_t type = kFakeType) {
    auto d = std::make_shared<FakeDevice>(type);
    virtio::MmioTransport t(mem, d);
    try {
      t.restore_state(j);
    } catch (const Error& e) {
      EXPECT_EQ(mmio_read(t, VIRTIO_MMIO_STATUS), 0u) << "left half restored";
      return e.what();
    }
    return "";
  }

  GuestMemory mem = GuestMemory::create(4 << 20);
  test::VirtioDriver q0{mem, kMax, 0x10000, 0x100000};
  test::VirtioDriver q1{mem, kMax / 2, 0x20000, 0x200000};
  std::shared_ptr<FakeDevice> device;
  std::unique_ptr<virtio::MmioTransport> transport;
};

TEST(QueuePositionsTest, ActivateStartsWhereItIsTold) {
  GuestMemory mem = GuestMemory::create(2 << 20);
  test::VirtioDriver d{mem, 8};
  virtio::Queue q(8);
  d.configure(q);
  d.set_avail_idx(5);  // five chains made and used before the "snapshot"
  q.activate(mem, {5, 5, 5, true});
  EXPECT_EQ(q.next_avail(), 5);
  EXPECT_EQ(q.next_used(), 5);
  EXPECT_EQ(q.positions().signalled_used, 5);
  EXPECT_TRUE(q.positions().signalled_valid);
  EXPECT_FALSE(q.has_available());
  uint16_t head = d.add({{d.alloc(4), 4}});
  auto chain = q.pop();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->head, head);
  q.add_used(chain->head, 4);
  EXPECT_EQ(q.ring_used_idx(), 6);
  EXPECT_EQ(q.ring_avail_idx(), 6);
  // More in flight than the ring holds cannot be.
  EXPECT_THROW(q.activate(mem, {20, 3, 0, false}), virtio::QueueError);
}

TEST_F(TransportSnapshotTest, RestoredDeviceCarriesOnFromTheSavedPositions) {
  json j = running_state();
  ASSERT_TRUE(device->stopped());
  // Interrupt not acknowledged by the driver: it stays pending in the state.
  EXPECT_EQ(j.at("interrupt_status"), VIRTIO_MMIO_INT_VRING);
  EXPECT_EQ(j.at("queues")[0].at("next_avail"), 3);
  EXPECT_EQ(j.at("queues")[0].at("next_used"), 3);
  EXPECT_EQ(j.at("activated"), true);
  transport->resume();
  EXPECT_FALSE(device->stopped());

  // The same guest memory stands in for the snapshot's.
  auto restored = std::make_shared<FakeDevice>();
  virtio::MmioTransport t(mem, restored);
  t.restore_state(j);
  ASSERT_TRUE(restored->active());
  EXPECT_EQ(mmio_read(t, VIRTIO_MMIO_STATUS), mmio_read(*transport, VIRTIO_MMIO_STATUS));
  EXPECT_EQ(mmio_read(t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
  EXPECT_EQ(mmio_read(t, VIRTIO_MMIO_CONFIG_GENERATION),
            mmio_read(*transport, VIRTIO_MMIO_CONFIG_GENERATION));
  EXPECT_EQ(j.at("queue_sel"), 1);  // where the driver left it
  mmio_write(t, VIRTIO_MMIO_QUEUE_SEL, 1);
  EXPECT_EQ(mmio_read(t, VIRTIO_MMIO_QUEUE_READY), 1u);
  EXPECT_EQ(restored->queue(0).next_avail(), 3);
  EXPECT_EQ(restored->queue(1).size(), kMax / 2);
  EXPECT_TRUE(restored->queue(0).event_idx());

  // The driver adds a chain: it is the fourth, and only it is served.
  uint16_t head = post(44);
  EXPECT_EQ(restored->process(), 1);
  auto used = q0.take_used();
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].id, head);
  EXPECT_EQ(used[0].len, 44u);
  EXPECT_EQ(mem.read_obj<uint16_t>(q0.used_ring() + 2), 4);
}

TEST_F(TransportSnapshotTest, ADeviceTheDriverNeverStartedRestoresAsIs) {
  mmio_write(*transport, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
  transport->quiesce();
  json j = transport->save_state();
  EXPECT_EQ(j.at("activated"), false);
  virtio::MmioTransport t(mem, std::make_shared<FakeDevice>());
  t.restore_state(j);
  EXPECT_EQ(mmio_read(t, VIRTIO_MMIO_STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE);
}

TEST_F(TransportSnapshotTest, SavingNeedsQuiesceAndADeviceNotHalfwaySetUp) {
  bring_up();
  EXPECT_THAT(vmrt::test::error_text([&] { transport->save_state(); }),
              HasSubstr("without being quiesced"));
  virtio::MmioTransport t(mem, std::make_shared<FakeDevice>());
  mmio_write(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  mmio_write(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
  mmio_write(t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
  mmio_write(t, VIRTIO_MMIO_STATUS,
             VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
  EXPECT_THAT(vmrt::test::error_text([&] { t.quiesce(); }),
              HasSubstr("its driver is setting it up"));
}

TEST_F(TransportSnapshotTest, ChainsInFlightAreRefused) {
  bring_up();
  post(8);
  device->hold_one();
  EXPECT_THAT(vmrt::test::error_text([&] { transport->quiesce(); }),
              HasSubstr("1 chain in flight"));
  EXPECT_FALSE(transport->quiesced());
}

TEST_F(TransportSnapshotTest, StatesWithChainsInFlightAreRefused) {
  json j = running_state();
  j["queues"][0]["next_avail"] = 5;
  EXPECT_THAT(restore_error(j), HasSubstr("2 chains in flight")) << restore_error(j);
}

TEST_F(TransportSnapshotTest, RefusesAnotherDeviceType) {
  json j = running_state();
  EXPECT_THAT(restore_error(j, 7), HasSubstr("the snapshot has a virtio device 42 here"))
      << restore_error(j, 7);
}

TEST_F(TransportSnapshotTest, RefusesQueueSizesTheDeviceCannotHave) {
  const json base = running_state();
  json j = base;
  j["queues"][1]["size"] = 12;
  EXPECT_THAT(restore_error(j), HasSubstr("size 12 is not a power of two in 1..16"));
  j["queues"][1]["size"] = 32;
  EXPECT_THAT(restore_error(j), HasSubstr("size 32 is not a power of two"));
  j["queues"][1]["size"] = 0;
  EXPECT_THAT(restore_error(j), HasSubstr("size 0"));
  j["queues"][1]["size"] = 70000;
  EXPECT_THAT(restore_error(j), HasSubstr("out of range"));
  j = base;
  j["queues"].erase(1);
  EXPECT_THAT(restore_error(j), HasSubstr("1 queues, this device has 2"));
}

TEST_F(TransportSnapshotTest, RefusesFeaturesNotOffered) {
  const json base = running_state();
  json j = base;
  j["driver_features"] = j["driver_features"].get<uint64_t>() | (1ull << 40);
  EXPECT_THAT(restore_error(j), HasSubstr("which the device does not offer"));
  j = base;
  j["driver_features"] = kFakeFeature;
  EXPECT_THAT(restore_error(j), HasSubstr("without VIRTIO_F_VERSION_1"));
}

TEST_F(TransportSnapshotTest, RefusesStatusesNoDriverReaches) {
  json j = running_state();
  for (auto [status, what] :
       std::vector<std::pair<uint32_t, std::string>>{{0x10f, "unknown bits"},
                                                     {0x4f, "needs reset"},
                                                     {0x8f, "gave up"},
                                                     {0x0d, "without the steps before"},
                                                     {0x07, "without the steps before"},
                                                     {0x0b, "activated is true"}}) {
    j["status"] = status;
    EXPECT_THAT(restore_error(j), HasSubstr(what)) << "status " << status;
  }
}

TEST_F(TransportSnapshotTest, RefusesRingsOnQueuesNotReadyAndMisalignedOrOutsideRam) {
  json j = running_state();
  json bad = j;
  bad["queues"][1]["ready"] = false;
  EXPECT_THAT(restore_error(bad), HasSubstr("for a queue that is not ready"));
  bad = j;
  bad["queues"][0]["used_ring"] = q0.used_ring() + 2;
  EXPECT_THAT(restore_error(bad), HasSubstr("misaligned"));
  bad = j;
  bad["queues"][0]["desc_table"] = 64ull << 20;
  EXPECT_THAT(restore_error(bad), HasSubstr("outside guest RAM"));
  bad = j;
  bad["interrupt_status"] = 4;
  EXPECT_THAT(restore_error(bad), HasSubstr("interrupt status 0x4"));
  bad = j;
  bad["queues"][0].erase("next_used");
  EXPECT_THAT(restore_error(bad), HasSubstr("missing required field \"queues[0].next_used\""));
  bad = j;
  bad["status"] = "15";
  EXPECT_THAT(restore_error(bad), HasSubstr("expected an integer"));
  EXPECT_THAT(restore_error(json::array()), HasSubstr("expected an object"));
  bad = j;
  bad["device"] = {{"x", 1}};
  EXPECT_THAT(restore_error(bad), HasSubstr("keeps no state"));
}

TEST_F(TransportSnapshotTest, RestoresOnlyIntoAFreshTransport) {
  json j = running_state();
  transport->resume();
  EXPECT_THAT(vmrt::test::error_text([&] { transport->restore_state(j); }),
              HasSubstr("a driver has used"));
}

}  // namespace
}  // namespace vmrt::vmm
