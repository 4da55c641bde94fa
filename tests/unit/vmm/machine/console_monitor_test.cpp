#include "vmm/machine/console_monitor.h"

#include <gtest/gtest.h>

#include <string_view>

namespace vmrt::vmm {
namespace {

void feed(ConsoleMonitor& m, std::string_view s) {
  m.feed({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

TEST(ConsoleMonitor, FindsThePanicMessageAcrossChunks) {
  ConsoleMonitor m;
  feed(m, "[    1.0] Kernel pan");
  feed(m, "ic - not syncing: VFS: Unable to mount root fs\r\n");
  ASSERT_TRUE(m.panic_message());
  EXPECT_EQ(*m.panic_message(), "VFS: Unable to mount root fs");
  EXPECT_FALSE(m.halted());
}

TEST(ConsoleMonitor, KeepsTheFirstPanic) {
  ConsoleMonitor m;
  feed(m, "Kernel panic - not syncing: first\nKernel panic - not syncing: second\n");
  EXPECT_EQ(*m.panic_message(), "first");
}

TEST(ConsoleMonitor, SeesTheHaltAndPowerDownLines) {
  ConsoleMonitor halt;
  feed(halt, "[    8.302313] reboot: System halted\r\n");
  EXPECT_TRUE(halt.halted());
  ConsoleMonitor power;
  feed(power, "[ 2.1] reboot: Power down\n");
  EXPECT_TRUE(power.halted());
}

TEST(ConsoleMonitor, OrdinaryOutputAndHugeLinesAreHarmless) {
  ConsoleMonitor m;
  feed(m, std::string(100000, 'x'));
  feed(m, "\nhello\n");
  EXPECT_FALSE(m.panic_message());
  EXPECT_FALSE(m.halted());
}

}  // namespace
}  // namespace vmrt::vmm
