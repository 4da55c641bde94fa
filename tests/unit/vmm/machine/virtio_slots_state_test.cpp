// The virtio slots of a snapshot against the devices a VM has attached:
// the same device types in the same order, each transport's state checked.
#include "vmm/machine/virtio_slots_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/virtio_ids.h>

#include "tests/support/error_text.h"
#include "tests/support/fake_virtio_device.h"
#include "vmm/virtio/mmio_transport.h"

namespace vmrt::vmm {
namespace {

using ::testing::HasSubstr;
using vmrt::test::error_text;

using test::FakeDevice;

class SlotsStateTest : public ::testing::Test {
 protected:
  // A slot entry as VirtioSlots::save_state() writes it, for a device the
  // driver has not started.
  nlohmann::json slot(uint32_t type) {
    virtio::MmioTransport t(mem, std::make_shared<FakeDevice>(type));
    t.quiesce();
    return {{"device_type", type}, {"transport", t.save_state()}};
  }
  std::string parse_error(const nlohmann::json& j) {
    return error_text([&] { parse_slots_state(j, devices); });
  }

  GuestMemory mem = GuestMemory::create(1 << 20);
  FakeDevice net{VIRTIO_ID_NET}, vsock{VIRTIO_ID_VSOCK}, fs{VIRTIO_ID_FS};
  std::vector<const virtio::VirtioDevice*> devices{&vsock, &net};
};

TEST_F(SlotsStateTest, AcceptsTheSameDevicesInTheSameOrder) {
  auto states = parse_slots_state({slot(VIRTIO_ID_VSOCK), slot(VIRTIO_ID_NET)}, devices);
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[1].device_type, static_cast<uint32_t>(VIRTIO_ID_NET));
}

TEST_F(SlotsStateTest, RefusesMissingExtraAndOtherDevices) {
  EXPECT_THAT(parse_error({slot(VIRTIO_ID_VSOCK), slot(VIRTIO_ID_NET), slot(VIRTIO_ID_NET)}),
              HasSubstr("the snapshot has virtio-net in slot 2, this VM has none"));
  EXPECT_THAT(parse_error(nlohmann::json::array({slot(VIRTIO_ID_VSOCK)})),
              HasSubstr("the snapshot has no device in slot 1, this VM has virtio-net"));
  EXPECT_THAT(parse_error({slot(VIRTIO_ID_VSOCK), slot(VIRTIO_ID_FS)}),
              HasSubstr("the snapshot has virtio-fs in slot 1, this VM has virtio-net"));
}

TEST_F(SlotsStateTest, RefusesMalformedEntries) {
  EXPECT_THAT(parse_error(nlohmann::json::object()), HasSubstr("expected an array"));
  EXPECT_THAT(parse_error({slot(VIRTIO_ID_VSOCK), {{"device_type", 1}}}),
              HasSubstr("slot 1: expected"));
  nlohmann::json bad = {slot(VIRTIO_ID_VSOCK), slot(VIRTIO_ID_NET)};
  bad[1]["transport"]["device_type"] = VIRTIO_ID_VSOCK;
  EXPECT_THAT(parse_error(bad), HasSubstr("slot 1: virtio-net state: the snapshot has a "
                                          "virtio-vsock here"));
}

}  // namespace
}  // namespace vmrt::vmm
