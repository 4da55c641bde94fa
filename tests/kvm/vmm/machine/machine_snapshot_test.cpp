// Snapshot and restore on real KVM with a tiny payload that counts in RAM
// and in a register: a machine restored from a state file and a privately
// mapped memory file continues exactly where the first one paused, and the
// two share nothing they write.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/tempdir.h"
#include "tests/kvm/payload.h"
#include "vmm/kvm/msr_index.h"
#include "vmm/machine/machine.h"
#include "vmm/snapshot/machine_state.h"
#include "vmm/snapshot/memory_file.h"
#include "vmm/snapshot/state_file.h"

namespace vmrt::vmm {
namespace {

constexpr uint64_t kRam = 2 << 20;
constexpr uint32_t kCounter = 0x3000;
constexpr uint64_t kStarValue = 0x0023'0010'0000'0000;

MachineConfig config(uint32_t cpus, security::SeccompMode seccomp = security::SeccompMode::Off) {
  MachineConfig cfg;
  cfg.mem_bytes = kRam;
  cfg.cpus = cpus;
  cfg.seccomp = seccomp;
  return cfg;
}

// A 2-vCPU machine: vCPU 0 counts, vCPU 1 waits for an INIT-SIPI that never
// comes (its state must survive too).
std::unique_ptr<Machine> counting_machine(
    security::SeccompMode seccomp = security::SeccompMode::Off) {
  auto m = Machine::create(config(2, seccomp));
  m->init_vcpus_for_boot();
  test::load_long_mode(*m, test::long_mode_count_forever(kCounter));
  m->vcpu(0).set_msrs({{msr::kStar, kStarValue}});
  return m;
}

uint64_t counter(const Machine& m) {
  // The guest writes it concurrently: one atomic 8-byte load.
  auto* p = reinterpret_cast<uint64_t*>(m.memory().host_ptr(kCounter, 8));
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

// Waits (a generous bound, not a timing assertion) for the guest to count.
bool counts_past(const Machine& m, uint64_t value) {
  for (int i = 0; i < 20000; ++i) {
    if (counter(m) > value) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

UniqueFd open_file(const std::filesystem::path& p, int flags) {
  UniqueFd fd(::open(p.c_str(), flags | O_CLOEXEC, 0600));
  if (!fd) throw_errno("open " + p.string());
  return fd;
}

uint64_t msr_of(const VcpuState& s, uint32_t index) {
  for (const kvm_msr_entry& e : s.msrs)
    if (e.index == index) return e.data;
  ADD_FAILURE() << "MSR " << index << " not saved";
  return 0;
}

struct Snapshot {
  TempDir dir{"snapshot"};
  std::filesystem::path state() const { return dir.path() / "state"; }
  std::filesystem::path memory() const { return dir.path() / "memory"; }
};

void take(Machine& m, const Snapshot& snap) {
  UniqueFd state = open_file(snap.state(), O_RDWR | O_CREAT | O_EXCL);
  snapshot::write_state_file(state.get(), m.save_state());
  UniqueFd mem = open_file(snap.memory(), O_RDWR | O_CREAT | O_EXCL);
  snapshot::write_memory_file(mem.get(), m.memory());
}

// Lets `m` count for a while, pauses it and snapshots it into `snap`;
// returns the counter at the pause (0 when the guest never counted).
uint64_t count_then_snapshot(Machine& m, const Snapshot& snap) {
  m.start();
  if (!counts_past(m, 1000)) return 0;
  m.pause();
  take(m, snap);
  return counter(m);
}

std::unique_ptr<Machine> restore(const Snapshot& snap, uint32_t cpus = 2, uint32_t max_cpus = 0) {
  UniqueFd state = open_file(snap.state(), O_RDONLY);
  nlohmann::json doc = snapshot::read_state_file(state.get());
  MachineConfig cfg = config(cpus);
  cfg.max_cpus = max_cpus;
  auto m = Machine::create(cfg, GuestMemory::map_private(open_file(snap.memory(), O_RDONLY), kRam));
  m->restore_state(doc);
  return m;
}

TEST(MachineSnapshot, RestoredMachineContinuesWhereTheFirstPaused) {
  auto a = counting_machine();
  Snapshot snap;
  uint64_t at_pause = count_then_snapshot(*a, snap);
  ASSERT_GT(at_pause, 0u);
  kvm_regs regs = a->vcpu(0).regs();
  ASSERT_LE(at_pause - regs.rbx, 1u) << "the payload keeps rbx in step with the counter";

  auto b = restore(snap);
  EXPECT_EQ(counter(*b), at_pause);
  kvm_regs restored = b->vcpu(0).regs();
  EXPECT_EQ(restored.rbx, regs.rbx);
  EXPECT_EQ(restored.rip, regs.rip);
  b->start();
  ASSERT_TRUE(counts_past(*b, at_pause + 1000));
  b->pause();
  kvm_regs later = b->vcpu(0).regs();
  EXPECT_GT(later.rbx, regs.rbx);
  EXPECT_LE(counter(*b) - later.rbx, 1u) << "rbx went on from its saved value";

  // The restored vCPUs have the first machine's MSRs and MP states.
  snapshot::MachineState sa = snapshot::parse_machine_state(a->save_state());
  snapshot::MachineState sb = snapshot::parse_machine_state(b->save_state());
  EXPECT_EQ(msr_of(sb.vcpus[0], msr::kStar), kStarValue);
  EXPECT_EQ(sb.vcpus[1].mp_state.mp_state, sa.vcpus[1].mp_state.mp_state);
  EXPECT_EQ(sb.vcpus[0].sregs.cr3, sa.vcpus[0].sregs.cr3);
  EXPECT_EQ(sb.vcpus[0].sregs.efer, sa.vcpus[0].sregs.efer);
  b->stop("done");
  EXPECT_EQ(b->wait().kind, ExitKind::Stopped);
  a->stop("done");
  EXPECT_EQ(a->wait().kind, ExitKind::Stopped);
}

TEST(MachineSnapshot, MachinesFromOneSnapshotShareNothingTheyWrite) {
  auto a = counting_machine();
  Snapshot snap;
  uint64_t at_pause = count_then_snapshot(*a, snap);
  ASSERT_GT(at_pause, 0u);

  auto b = restore(snap);
  b->start();
  ASSERT_TRUE(counts_past(*b, at_pause + 1000));
  b->pause();
  // The source goes on after its snapshot, on its own RAM.
  a->resume();
  ASSERT_TRUE(counts_past(*a, at_pause + 1000));
  a->pause();
  a->memory().write_obj<uint64_t>(0x4000, 0xaaaa);
  b->memory().write_obj<uint64_t>(0x5000, 0xbbbb);
  EXPECT_EQ(b->memory().read_obj<uint64_t>(0x4000), 0u);
  EXPECT_EQ(a->memory().read_obj<uint64_t>(0x5000), 0u);

  // b's guest and host writes never reached the file: a third machine
  // restored from it starts from the snapshot's counter.
  auto c = restore(snap);
  EXPECT_EQ(counter(*c), at_pause);
  EXPECT_EQ(c->memory().read_obj<uint64_t>(0x5000), 0u);
  EXPECT_NE(counter(*b), at_pause);
  a->stop("done");
  a->wait();
  b->stop("done");
  b->wait();
}

// Parking for a pause re-enters KVM_RUN to complete the last exit: within
// the vCPU role's seccomp filter, so a confined VM can be snapshotted.
TEST(MachineSnapshot, ConfinedVcpusPauseForASnapshotAndGoOn) {
  auto a = counting_machine(security::SeccompMode::On);
  Snapshot snap;
  uint64_t at_pause = count_then_snapshot(*a, snap);
  ASSERT_GT(at_pause, 0u);
  a->resume();
  EXPECT_TRUE(counts_past(*a, at_pause + 1000));
  a->stop("done");
  EXPECT_EQ(a->wait().kind, ExitKind::Stopped);
}

// A port that reads as 1 and counts the guest's reads.
struct CountingPort : BusDevice {
  std::atomic<uint64_t> reads{0};
  void read(uint64_t, std::span<uint8_t> data) override {
    ++reads;
    std::fill(data.begin(), data.end(), 1);
    // Slow, so that a pause nearly always finds the vCPU thread here,
    // before KVM has put the value into the guest's al.
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  void write(uint64_t, std::span<const uint8_t>) override {}
};

// How many reads a machine paused at `rip` has made beyond its counter: 1
// between the IN and the addition, else 0.
uint64_t in_ahead(uint64_t rip) { return rip == test::kInAndAddAddAddr ? 1 : 0; }

// KVM puts the value of a port read into the register only when it
// completes the IN on the next KVM_RUN; a snapshot taken before that would
// lose the value. Every read must reach the counter across the restore.
TEST(MachineSnapshot, APortReadPendingAtThePauseIsNotLost) {
  constexpr uint16_t kPort = 0x510;
  auto a = Machine::create(config(1));
  a->init_vcpus_for_boot();
  auto port_a = std::make_shared<CountingPort>();
  a->pio_bus().add(kPort, 1, port_a, "counting port");
  test::load_long_mode(*a, test::long_mode_in_and_add(kPort, kCounter));
  Snapshot snap;
  uint64_t at_pause = count_then_snapshot(*a, snap);
  ASSERT_GT(at_pause, 0u);
  kvm_regs regs_a = a->vcpu(0).regs();
  EXPECT_EQ(port_a->reads.load(), at_pause + in_ahead(regs_a.rip)) << "rip " << regs_a.rip;
  if (in_ahead(regs_a.rip)) EXPECT_EQ(regs_a.rax, 1u) << "the read value is in rax";

  auto b = restore(snap, 1);
  auto port_b = std::make_shared<CountingPort>();
  b->pio_bus().add(kPort, 1, port_b, "counting port");
  b->start();
  ASSERT_TRUE(counts_past(*b, at_pause + 1000));
  b->pause();
  uint64_t rip_b = b->vcpu(0).regs().rip;
  EXPECT_EQ(port_a->reads.load() + port_b->reads.load(), counter(*b) + in_ahead(rip_b));
  a->stop("done");
  a->wait();
  b->stop("done");
  b->wait();
}

uint32_t mp_state(Machine& m, uint32_t i) {
  kvm_mp_state s{};
  check_sys(ioctl(m.vcpu(i).fd(), KVM_GET_MP_STATE, &s), "KVM_GET_MP_STATE");
  return s.mp_state;
}

// A template VM that started 1 of its 3 vCPUs: the two it never started
// come back waiting for INIT/SIPI, and the restored guest starts one as
// Linux onlines a CPU.
TEST(MachineSnapshot, VcpusNeverStartedComeBackWaitingAndStartLater) {
  constexpr uint32_t kApCounter = 0x3008, kStartFlag = 0x3010;
  constexpr uint8_t kSipiVector = 0x10;
  MachineConfig cfg = config(1);
  cfg.max_cpus = 3;
  auto a = Machine::create(cfg);
  a->init_vcpus_for_boot();
  a->memory().write(uint64_t{kSipiVector} << 12, test::real_mode_count_forever(kApCounter));
  test::load_long_mode(*a, test::long_mode_count_and_start_aps(kCounter, kStartFlag, kSipiVector));
  Snapshot snap;
  uint64_t at_pause = count_then_snapshot(*a, snap);
  ASSERT_GT(at_pause, 0u);
  snapshot::MachineState sa = snapshot::parse_machine_state(a->save_state());
  ASSERT_EQ(sa.vcpus.size(), 3u);
  for (uint32_t i : {1u, 2u})
    EXPECT_EQ(sa.vcpus[i].mp_state.mp_state, static_cast<uint32_t>(KVM_MP_STATE_UNINITIALIZED));
  a->stop("done");
  a->wait();

  try {
    restore(snap, 1, 2);
    FAIL() << "restored 3 vCPUs into 2";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 vCPUs"), std::string::npos) << e.what();
  }
  auto b = restore(snap, 1, 3);
  for (uint32_t i : {1u, 2u})
    EXPECT_EQ(mp_state(*b, i), static_cast<uint32_t>(KVM_MP_STATE_UNINITIALIZED)) << i;
  b->start();
  ASSERT_TRUE(counts_past(*b, at_pause + 1000));
  EXPECT_EQ(b->memory().read_obj<uint64_t>(kApCounter), 0u);
  b->memory().write_obj<uint32_t>(kStartFlag, 1 + 1);  // vCPU 1
  bool ap_counts = false;
  for (int i = 0; i < 20000 && !ap_counts; ++i) {
    auto* p = reinterpret_cast<uint32_t*>(b->memory().host_ptr(kApCounter, 4));
    ap_counts = __atomic_load_n(p, __ATOMIC_RELAXED) > 1000;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(ap_counts) << "the restored vCPU 1 never ran its STARTUP vector";
  b->pause();
  EXPECT_EQ(mp_state(*b, 1), static_cast<uint32_t>(KVM_MP_STATE_RUNNABLE));
  EXPECT_EQ(mp_state(*b, 2), static_cast<uint32_t>(KVM_MP_STATE_UNINITIALIZED));
  EXPECT_EQ(b->vcpu_exits(2), 0u) << "the vCPU never started made no exit";
  b->stop("done");
  EXPECT_EQ(b->wait().kind, ExitKind::Stopped);
}

TEST(MachineSnapshot, SaveAndRestoreRefuseTheWrongMoment) {
  auto a = counting_machine();
  EXPECT_THROW(a->save_state(), Error) << "never started";
  a->start();
  try {
    a->save_state();
    FAIL() << "saved a running VM";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("must be paused"), std::string::npos) << e.what();
  }
  a->pause();
  nlohmann::json doc = a->save_state();
  EXPECT_THROW(a->restore_state(doc), Error) << "restored into a started VM";

  auto one = Machine::create(config(1));
  try {
    one->restore_state(doc);
    FAIL() << "restored 2 vCPUs into 1";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 vCPUs"), std::string::npos) << e.what();
  }
  MachineConfig bigger = config(2);
  bigger.mem_bytes = 2 * kRam;
  auto big = Machine::create(bigger);
  EXPECT_THROW(big->restore_state(doc), Error);
  a->stop("done");
  a->wait();
}

}  // namespace
}  // namespace vmrt::vmm
