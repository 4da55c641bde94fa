// vCPU hotplug on real KVM with tiny payloads: a machine with more vCPUs
// than it starts creates them all, those the guest has not started wait in
// KVM (no exit reaches the VMM: they cost no host CPU), and the guest can
// start one with INIT/SIPI long after boot, as Linux onlines a CPU.
#include <gtest/gtest.h>
#include <sys/ioctl.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/error.h"
#include "tests/kvm/payload.h"
#include "vmm/machine/machine.h"

namespace vmrt::vmm {
namespace {

constexpr uint32_t kCounter = 0x3000;    // vCPU 0 counts here
constexpr uint32_t kApCounter = 0x3008;  // a started AP counts here
constexpr uint32_t kStartFlag = 0x3010;  // APIC ID + 1 of the AP vCPU 0 is to start
constexpr uint8_t kSipiVector = 0x10;    // the AP starts in real mode at 0x10000

MachineConfig config(uint32_t cpus, uint32_t max_cpus) {
  MachineConfig cfg;
  cfg.mem_bytes = 2 << 20;
  cfg.cpus = cpus;
  cfg.max_cpus = max_cpus;
  return cfg;
}

uint64_t read_atomic(const Machine& m, uint64_t gpa) {
  auto* p = reinterpret_cast<uint64_t*>(m.memory().host_ptr(gpa, 8));
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

// Waits (a generous bound, not a timing assertion) for the quadword at
// `gpa` to pass `value`.
bool passes(const Machine& m, uint64_t gpa, uint64_t value) {
  for (int i = 0; i < 20000; ++i) {
    if (read_atomic(m, gpa) > value) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

uint32_t mp_state(Machine& m, uint32_t i) {
  kvm_mp_state s{};
  check_sys(ioctl(m.vcpu(i).fd(), KVM_GET_MP_STATE, &s), "KVM_GET_MP_STATE");
  return s.mp_state;
}

// vCPU 0 counts and starts an AP when the host sets kStartFlag; the APs'
// code waits at the SIPI vector.
std::unique_ptr<Machine> hotplug_machine(uint32_t cpus, uint32_t max_cpus) {
  auto m = Machine::create(config(cpus, max_cpus));
  m->init_vcpus_for_boot();
  m->memory().write(uint64_t{kSipiVector} << 12, test::real_mode_count_forever(kApCounter));
  test::load_long_mode(*m, test::long_mode_count_and_start_aps(kCounter, kStartFlag, kSipiVector));
  return m;
}

TEST(MachineHotplug, CreatesEveryVcpuAndTheOnesNotStartedNeverExit) {
  auto m = hotplug_machine(1, 3);
  EXPECT_EQ(m->vcpu_count(), 3u);
  EXPECT_EQ(m->boot_vcpu_count(), 1u);
  m->start();
  ASSERT_TRUE(passes(*m, kCounter, 100000));
  m->pause();
  for (uint32_t i : {1u, 2u}) {
    // Their threads sat in KVM_RUN the whole time (only the pause's kick
    // brought them out): not one exit, not one instruction.
    EXPECT_EQ(m->vcpu_exits(i), 0u) << "vCPU " << i;
    EXPECT_EQ(mp_state(*m, i), static_cast<uint32_t>(KVM_MP_STATE_UNINITIALIZED)) << i;
    EXPECT_EQ(m->vcpu(i).regs().rip, 0xfff0u) << "vCPU " << i << " is at its reset vector";
  }
  EXPECT_EQ(read_atomic(*m, kApCounter), 0u);
  m->stop("done");
  EXPECT_EQ(m->wait().kind, ExitKind::Stopped);
}

TEST(MachineHotplug, TheGuestStartsAWaitingVcpuLongAfterBoot) {
  auto m = hotplug_machine(1, 3);
  m->start();
  ASSERT_TRUE(passes(*m, kCounter, 100000));
  EXPECT_EQ(read_atomic(*m, kApCounter), 0u);
  m->memory().write_obj<uint32_t>(kStartFlag, 2 + 1);  // vCPU 2, APIC ID 2
  ASSERT_TRUE(passes(*m, kApCounter, 1000)) << "vCPU 2 never ran its STARTUP vector";
  m->pause();
  EXPECT_EQ(mp_state(*m, 2), static_cast<uint32_t>(KVM_MP_STATE_RUNNABLE));
  EXPECT_GT(m->vcpu_exits(2), 0u) << "KVM_RUN returned when the INIT/SIPI woke it";
  EXPECT_GT(m->vcpu_exits(ExitReason::Wake), 0u) << "counted as a wake-up";
  EXPECT_EQ(mp_state(*m, 1), static_cast<uint32_t>(KVM_MP_STATE_UNINITIALIZED));
  EXPECT_EQ(m->vcpu_exits(1), 0u);
  // Both go on counting after a pause.
  uint64_t ap = read_atomic(*m, kApCounter), bsp = read_atomic(*m, kCounter);
  m->resume();
  EXPECT_TRUE(passes(*m, kApCounter, ap + 1000));
  EXPECT_TRUE(passes(*m, kCounter, bsp + 1000));
  m->stop("done");
  EXPECT_EQ(m->wait().kind, ExitKind::Stopped);
}

TEST(MachineHotplug, VcpuCountsAreChecked) {
  try {
    Machine::create(config(2, 1));
    FAIL() << "max_cpus below cpus";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_cpus must be at least cpus"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(Machine::create(config(1, 100000)), Error);
  // 0: as many as cpus.
  auto m = Machine::create(config(2, 0));
  EXPECT_EQ(m->vcpu_count(), 2u);
  EXPECT_EQ(m->boot_vcpu_count(), 2u);
}

}  // namespace
}  // namespace vmrt::vmm
