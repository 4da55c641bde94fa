// The control socket's "memory" command: the virtio-mem sizes in MiB, and
// setting the requested size, with bad values refused.
#include "vmm/control/memory_command.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "vmm/control/device_counters.h"
#include "vmm/devices/mem/mem_device.h"

namespace vmrt::vmm {
namespace {

struct Fixture {
  GuestMemory memory = [] {
    GuestMemory m = GuestMemory::create(16 << 20);
    m.add_hotplug(256 << 20);
    return m;
  }();
  std::shared_ptr<mem::MemDevice> device = std::make_shared<mem::MemDevice>(*memory.hotplug());
};

TEST(MemoryCommand, ReportsTheSizesInMib) {
  Fixture f;
  nlohmann::json r = memory_command(f.device.get(), {{"cmd", "memory"}});
  EXPECT_EQ(r, (nlohmann::json{{"ok", true},
                               {"region_mib", 256},
                               {"block_mib", 2},
                               {"requested_mib", 0},
                               {"plugged_mib", 0}}));
}

TEST(MemoryCommand, SetsTheRequestedSize) {
  Fixture f;
  nlohmann::json r = memory_command(f.device.get(), {{"cmd", "memory"}, {"requested_mib", 130}});
  EXPECT_EQ(r["requested_mib"], 130);
  EXPECT_EQ(f.device->status().requested_bytes, uint64_t{130} << 20);
  r = memory_command(f.device.get(), {{"cmd", "memory"}, {"requested_mib", 0}});
  EXPECT_EQ(r["requested_mib"], 0);
}

TEST(MemoryCommand, RefusesBadSizesAndVmsWithoutTheDevice) {
  Fixture f;
  for (nlohmann::json bad : {nlohmann::json(3), nlohmann::json(258), nlohmann::json(-2),
                             nlohmann::json("64"), nlohmann::json(2.5)})
    EXPECT_THROW(memory_command(f.device.get(), {{"cmd", "memory"}, {"requested_mib", bad}}), Error)
        << bad;
  EXPECT_EQ(f.device->status().requested_bytes, 0u);
  EXPECT_THROW(memory_command(nullptr, {{"cmd", "memory"}}), Error);
}

TEST(MemoryCommand, CountersShowThePluggedBytes) {
  Fixture f;
  DeviceCounterSources sources;
  sources.mem = f.device;
  f.memory.hotplug()->plug(0, 3);
  nlohmann::json j = counters_json(sources);
  EXPECT_EQ(j["mem"]["plugged_bytes"], 6 << 20);
  EXPECT_EQ(j["mem"]["plug_requests"], 0);
  EXPECT_EQ(j["mem"].size(), 8u);
}

}  // namespace
}  // namespace vmrt::vmm
