// VirtioSlots on a real machine: quiescing every slot is all or nothing,
// and a machine restores the slots' state only with the same devices in
// the same order, each device carrying on at its saved positions.
#include "vmm/machine/virtio_slots.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/error_text.h"
#include "tests/support/fake_virtio_device.h"
#include "tests/support/virtio_driver.h"
#include "tests/support/virtio_mmio_driver.h"

namespace vmrt::vmm {
namespace {

using test::FakeDevice;
using ::testing::HasSubstr;

std::unique_ptr<Machine> make_machine() {
  MachineConfig cfg;
  cfg.mem_bytes = 4 << 20;
  cfg.cpus = 1;
  return Machine::create(cfg);
}

struct Slots {
  std::unique_ptr<Machine> machine = make_machine();
  VirtioSlots slots{*machine};
  std::vector<std::shared_ptr<FakeDevice>> devices;
  std::vector<std::shared_ptr<virtio::MmioTransport>> transports;

  explicit Slots(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      devices.push_back(std::make_shared<FakeDevice>());
      transports.push_back(slots.attach(devices.back()));
    }
  }
};

TEST(VirtioSlots, QuiesceIsAllOrNothingAndStateRestoresIntoTheSameLayout) {
  Slots vm(2);
  std::vector<test::VirtioDriver> drivers;
  for (size_t i = 0; i < 2; ++i) {
    uint64_t base = 0x10000 * (2 * i + 1);
    drivers.emplace_back(vm.machine->memory(), FakeDevice::kMax, base, 0x100000 * (i + 1));
    test::VirtioDriver q1(vm.machine->memory(), FakeDevice::kMax, base + 0x10000, 0x300000);
    ASSERT_TRUE(test::bring_up(*vm.transports[i], {&drivers[i], &q1}) & VIRTIO_CONFIG_S_DRIVER_OK);
  }
  drivers[1].add({{drivers[1].alloc(8), 8}});
  ASSERT_EQ(vm.devices[1]->process(), 1);

  vm.devices[1]->set_busy(true);
  EXPECT_THAT(vmrt::test::error_text([&] { vm.slots.quiesce(); }), HasSubstr("in flight"));
  EXPECT_FALSE(vm.devices[0]->stopped()) << "slot 0 was not resumed";
  EXPECT_FALSE(vm.transports[0]->quiesced());
  vm.devices[1]->set_busy(false);
  vm.slots.quiesce();
  EXPECT_TRUE(vm.devices[0]->stopped());
  nlohmann::json j = vm.slots.save_state();
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1].at("device_type"), test::kFakeType);
  EXPECT_EQ(j[1].at("transport").at("queues")[0].at("next_used"), 1);
  vm.slots.resume();
  EXPECT_FALSE(vm.devices[1]->stopped());

  Slots fewer(1);
  EXPECT_THAT(vmrt::test::error_text([&] { fewer.slots.restore_state(j); }),
              HasSubstr("the snapshot has virtio device 42 in slot 1, this VM has none"));
  EXPECT_FALSE(fewer.devices[0]->active()) << "touched before the layout was checked";

  Slots restored(2);
  restored.slots.restore_state(j);
  ASSERT_TRUE(restored.devices[1]->active());
  EXPECT_EQ(restored.devices[1]->queue(0).next_avail(), 1);
}

}  // namespace
}  // namespace vmrt::vmm
