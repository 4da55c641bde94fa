#include "vmm/devices/bus.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/error.h"

namespace vmrt::vmm {
namespace {

struct Recorder : BusDevice {
  std::vector<std::pair<uint64_t, uint8_t>> writes;
  void read(uint64_t offset, std::span<uint8_t> data) override {
    for (auto& b : data) b = static_cast<uint8_t>(offset);
  }
  void write(uint64_t offset, std::span<const uint8_t> data) override {
    writes.emplace_back(offset, data[0]);
  }
};

TEST(Bus, RoutesByAddressWithDeviceRelativeOffsets) {
  Bus bus("test");
  auto a = std::make_shared<Recorder>();
  auto b = std::make_shared<Recorder>();
  bus.add(0x100, 8, a, "a");
  bus.add(0x108, 8, b, "b");
  uint8_t v = 7;
  EXPECT_TRUE(bus.write(0x10a, {&v, 1}));
  ASSERT_EQ(b->writes.size(), 1u);
  EXPECT_EQ(b->writes[0].first, 2u);
  uint8_t out[2];
  EXPECT_TRUE(bus.read(0x105, out));
  EXPECT_EQ(out[0], 5);
}

TEST(Bus, UnclaimedAccessesReadAllOnes) {
  Bus bus("test");
  bus.add(0x100, 8, std::make_shared<Recorder>(), "a");
  uint8_t out[4] = {};
  EXPECT_FALSE(bus.read(0x200, out));
  EXPECT_EQ(out[0], 0xff);
  EXPECT_FALSE(bus.read(0x106, out))
      << "an access running past the device's end is not the device's";
  uint8_t v = 1;
  EXPECT_FALSE(bus.write(0xff, {&v, 1}));
}

TEST(Bus, RefusesOverlapsAndEmptyOrWrappingRanges) {
  Bus bus("test");
  bus.add(0x100, 0x10, std::make_shared<Recorder>(), "a");
  EXPECT_THROW(bus.add(0x108, 0x10, std::make_shared<Recorder>(), "b"), Error);
  EXPECT_THROW(bus.add(0xf8, 0x10, std::make_shared<Recorder>(), "c"), Error);
  EXPECT_THROW(bus.add(0x200, 0, std::make_shared<Recorder>(), "d"), Error);
  EXPECT_THROW(bus.add(~0ull - 1, 4, std::make_shared<Recorder>(), "e"), Error);
  EXPECT_NO_THROW(bus.add(0x110, 0x10, std::make_shared<Recorder>(), "f"));
}

}  // namespace
}  // namespace vmrt::vmm
