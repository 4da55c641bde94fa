// The VMM's run loop on real KVM with tiny payloads: port I/O and MMIO exits,
// the UART, the i8042 reset, triple faults, panics seen on the console, and
// host-side pause/resume/stop.
#include "vmm/machine/machine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "common/error.h"
#include "tests/kvm/payload.h"

namespace vmrt::vmm {
namespace {

using test::load_real_mode;
using test::real_mode_print;

// Collects console output across vCPU threads.
struct Console {
  std::mutex mu;
  std::string text;
  std::function<void(std::span<const uint8_t>)> sink() {
    return [this](std::span<const uint8_t> b) {
      std::lock_guard lock(mu);
      text.append(b.begin(), b.end());
    };
  }
  std::string get() {
    std::lock_guard lock(mu);
    return text;
  }
};

std::unique_ptr<Machine> make(Console& console, uint32_t cpus = 1) {
  MachineConfig cfg;
  cfg.mem_bytes = 2 << 20;
  cfg.cpus = cpus;
  cfg.console = console.sink();
  return Machine::create(cfg);
}

TEST(Machine, PrintsToSerialAndEndsOnI8042Reset) {
  Console console;
  auto m = make(console);
  load_real_mode(*m, real_mode_print("hello from the guest\n", test::i8042_reset()));
  m->start();
  VmExit exit = m->wait();
  EXPECT_EQ(console.get(), "hello from the guest\n");
  EXPECT_EQ(exit.kind, ExitKind::Reset) << exit.describe();
  EXPECT_EQ(exit.exit_status(), 0);
}

TEST(Machine, ConsolePanicLineMakesTheResetAPanic) {
  Console console;
  auto m = make(console);
  load_real_mode(
      *m, real_mode_print("Kernel panic - not syncing: test says so\r\n", test::i8042_reset()));
  m->start();
  VmExit exit = m->wait();
  EXPECT_EQ(exit.kind, ExitKind::Panic);
  EXPECT_EQ(exit.detail, "test says so");
  EXPECT_NE(exit.exit_status(), 0);
}

TEST(Machine, KernelHaltLineEndsTheVmAsAPowerOff) {
  Console console;
  auto m = make(console);
  // After this line the kernel stops every CPU with interrupts off; the VMM
  // must end the VM rather than wait forever.
  load_real_mode(*m, real_mode_print("reboot: System halted\n", test::spin_forever()));
  m->start();
  VmExit exit = m->wait();
  EXPECT_EQ(exit.kind, ExitKind::PowerOff) << exit.describe();
  EXPECT_EQ(exit.exit_status(), 0);
}

// An MMIO device that remembers the last byte written and reads back + 1.
struct EchoDevice : BusDevice {
  std::mutex mu;
  uint64_t last_offset = ~0ull;
  uint8_t value = 0;
  void read(uint64_t, std::span<uint8_t> data) override {
    std::lock_guard lock(mu);
    for (auto& b : data) b = static_cast<uint8_t>(value + 1);
  }
  void write(uint64_t offset, std::span<const uint8_t> data) override {
    std::lock_guard lock(mu);
    last_offset = offset;
    value = data[0];
  }
};

TEST(Machine, LongModeMmioExitsReachTheDeviceOnTheBus) {
  Console console;
  auto m = make(console);
  auto dev = std::make_shared<EchoDevice>();
  m->mmio_bus().add(0xd000'0000, 0x1000, dev, "echo");
  test::load_long_mode(*m, test::long_mode_mmio_echo(0xd000'0010, 'A'));
  m->start();
  VmExit exit = m->wait();
  EXPECT_EQ(exit.kind, ExitKind::Reset) << exit.describe();
  EXPECT_EQ(dev->last_offset, 0x10u);
  EXPECT_EQ(dev->value, 'A');
  EXPECT_EQ(console.get(), "B");
}

TEST(Machine, UnclaimedMmioReadsAllOnesAndTheGuestGoesOn) {
  Console console;
  auto m = make(console);
  test::load_long_mode(*m, test::long_mode_mmio_echo(0xd000'0000, 'A'));
  m->start();
  VmExit exit = m->wait();
  EXPECT_EQ(exit.kind, ExitKind::Reset) << exit.describe();
  EXPECT_EQ(console.get(), "\xff");
}

TEST(Machine, TripleFaultEndsTheVmWithAnError) {
  Console console;
  auto m = make(console);
  test::load_long_mode(*m, test::long_mode_unmapped_read());
  m->start();
  VmExit exit = m->wait();
  EXPECT_EQ(exit.kind, ExitKind::TripleFault) << exit.describe();
  EXPECT_EQ(exit.exit_status(), 3);
}

TEST(Machine, HostCanPauseResumeAndStop) {
  Console console;
  auto m = make(console, 2);
  load_real_mode(*m, real_mode_print("spinning", test::spin_forever()));
  m->start();
  EXPECT_EQ(m->state(), RunState::Running);
  m->pause();
  EXPECT_EQ(m->state(), RunState::Paused);
  m->resume();
  EXPECT_EQ(m->state(), RunState::Running);
  m->stop("test is done");
  VmExit exit = m->wait();
  EXPECT_EQ(exit.kind, ExitKind::Stopped);
  EXPECT_EQ(exit.detail, "test is done");
  EXPECT_EQ(exit.exit_status(), 0);
  EXPECT_EQ(m->state(), RunState::Ended);
}

TEST(Machine, StopWhilePausedEnds) {
  Console console;
  auto m = make(console);
  load_real_mode(*m, real_mode_print("", test::spin_forever()));
  m->start();
  m->pause();
  m->stop("stop while paused");
  EXPECT_EQ(m->wait().kind, ExitKind::Stopped);
}

TEST(Machine, DestroyingARunningMachineStopsItsThreads) {
  Console console;
  auto m = make(console, 2);
  load_real_mode(*m, real_mode_print("", test::spin_forever()));
  m->start();
  m.reset();  // must not hang or leave threads behind
  SUCCEED();
}

TEST(Machine, BadConfigurationIsRefusedWithAClearError) {
  MachineConfig cfg;
  cfg.cpus = 0;
  try {
    Machine::create(cfg);
    FAIL() << "0 vCPUs accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at least one vCPU"), std::string::npos) << e.what();
  }
  cfg.cpus = 100000;
  EXPECT_THROW(Machine::create(cfg), Error);
  cfg.cpus = 1;
  cfg.mem_bytes = uint64_t{1} << 50;
  EXPECT_THROW(Machine::create(cfg), Error);
  cfg.mem_bytes = 2 << 20;
  cfg.kvm_path = "/nonexistent/kvm";
  try {
    Machine::create(cfg);
    FAIL() << "missing KVM device accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vmrt::vmm
