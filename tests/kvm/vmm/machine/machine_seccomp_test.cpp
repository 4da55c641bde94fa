// A Machine confined by seccomp (vCPU threads and the device control thread)
// still runs its payloads, and a forbidden call on one of its real threads
// kills the process with SIGSYS after the reporter's line. The violations run
// as death tests: in a child process, so this one stays alive.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>
#include <string>

#include "tests/kvm/payload.h"
#include "vmm/machine/machine.h"

namespace vmrt::vmm {
namespace {

// The test's own port: a write to it makes the call no vCPU may make.
constexpr uint16_t kViolationPort = 0x510;

struct InetSocketOnWrite : BusDevice {
  void read(uint64_t, std::span<uint8_t>) override {}
  void write(uint64_t, std::span<const uint8_t>) override { socket(AF_INET, SOCK_STREAM, 0); }
};

std::unique_ptr<Machine> make_confined(std::string& console, std::mutex& mu) {
  MachineConfig cfg;
  cfg.mem_bytes = 2 << 20;
  cfg.seccomp = security::SeccompMode::On;
  cfg.console = [&](std::span<const uint8_t> b) {
    std::lock_guard lock(mu);
    console.append(b.begin(), b.end());
  };
  return Machine::create(cfg);
}

TEST(MachineSeccomp, ConfinedVcpusRunPortIoTheConsoleAndTheReset) {
  std::mutex mu;
  std::string console;
  auto m = make_confined(console, mu);
  test::load_real_mode(*m, test::real_mode_print("confined\n", test::i8042_reset()));
  m->start();
  VmExit exit = m->wait();
  EXPECT_EQ(exit.kind, ExitKind::Reset) << exit.describe();
  std::lock_guard lock(mu);
  EXPECT_EQ(console, "confined\n");
}

TEST(MachineSeccomp, HostStopsAConfinedVcpuSleepingInKvmRun) {
  std::mutex mu;
  std::string console;
  auto m = make_confined(console, mu);
  test::load_long_mode(*m, test::long_mode_print_and_halt("up\n"));
  m->start();
  m->pause();
  m->resume();
  m->stop("test");
  EXPECT_EQ(m->wait().kind, ExitKind::Stopped);
}

TEST(MachineSeccompDeathTest, ForbiddenCallOnAVcpuThreadKillsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::mutex mu;
        std::string console;
        auto m = make_confined(console, mu);
        m->pio_bus().add(kViolationPort, 1, std::make_shared<InetSocketOnWrite>(), "violation");
        // mov dx, 0x510; out dx, al; then spin.
        test::load_real_mode(*m, {0xba, 0x10, 0x05, 0xee, 0xeb, 0xfe});
        m->start();
        m->wait();
      },
      testing::KilledBySignal(SIGSYS),
      "vmrt-vmm: seccomp: thread vcpu made forbidden system call " + std::to_string(SYS_socket) +
          " \\(socket\\)");
}

TEST(MachineSeccompDeathTest, ForbiddenCallOnTheDeviceControlThreadKillsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::mutex mu;
        std::string console;
        auto m = make_confined(console, mu);
        m->device_control_thread().run([] { syscall(SYS_ptrace, 0, 0, 0, 0); });
      },
      testing::KilledBySignal(SIGSYS),
      "vmrt-vmm: seccomp: thread device made forbidden system call " + std::to_string(SYS_ptrace) +
          " \\(ptrace\\)");
}

}  // namespace
}  // namespace vmrt::vmm
