// The virtio-mem hotplug region on a real KVM memory slot: the guest reads
// and writes plugged blocks as RAM, and an unplugged block (never plugged,
// or unplugged while the guest runs) gets no host page when the guest
// touches it: the VM stops with an error (or, on PVM, the access is an
// MMIO exit nothing claims).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <mutex>
#include <string>
#include <thread>

#include "common/error.h"
#include "tests/kvm/payload.h"
#include "vmm/boot/layout.h"
#include "vmm/machine/machine.h"

namespace vmrt::vmm {
namespace {

constexpr uint64_t kBlock = HotplugRegion::kBlockSize;
// A page directory for guest-physical 4-5 GiB, where the region starts
// behind 2 MiB of RAM (the loader's identity map stops at 4 GiB).
constexpr uint64_t kHighPd = 0x10000;

struct Vm {
  std::mutex mu;
  std::string console;
  std::unique_ptr<Machine> machine;

  Vm() {
    MachineConfig cfg;
    cfg.mem_bytes = 2 << 20;
    cfg.console = [this](std::span<const uint8_t> b) {
      std::lock_guard lock(mu);
      console.append(b.begin(), b.end());
    };
    GuestMemory mem = GuestMemory::create(cfg.mem_bytes);
    mem.add_hotplug(128 << 20);
    machine = Machine::create(cfg, std::move(mem));
  }
  HotplugRegion& region() { return *machine->memory().hotplug(); }
  uint64_t block(uint64_t n) { return region().gpa() + n * kBlock; }
  std::string output() {
    std::lock_guard lock(mu);
    return console;
  }

  // Runs `code` in long mode with 4-5 GiB identity-mapped too.
  void load(const std::vector<uint8_t>& code) {
    test::load_long_mode(*machine, code);
    const GuestMemory& mem = machine->memory();
    ASSERT_EQ(region().gpa(), uint64_t{4} << 30);
    for (uint64_t i = 0; i < 512; ++i)
      mem.write_obj<uint64_t>(kHighPd + 8 * i, ((uint64_t{4} << 30) + i * kBlock) | 0x83);
    mem.write_obj<uint64_t>(layout::kPdpt + 8 * 4, kHighPd | 0x3);
  }
};

// movabs rax, addr
std::vector<uint8_t> load_rax(uint64_t addr) {
  std::vector<uint8_t> code = {0x48, 0xb8};
  for (int i = 0; i < 8; ++i) code.push_back(static_cast<uint8_t>(addr >> (8 * i)));
  return code;
}
std::vector<uint8_t> operator+(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The guest writes 0x5a5a5a5a at `addr`, reads it back, outputs the low
// byte on the serial port and resets: mov rax, addr; mov qword [rax],
// 0x5a5a5a5a; mov rbx, [rax]; mov dx, 0x3f8; mov al, bl; out dx, al.
std::vector<uint8_t> write_read_back(uint64_t addr) {
  return load_rax(addr) + std::vector<uint8_t>{0x48, 0xc7, 0x00, 0x5a, 0x5a, 0x5a, 0x5a, 0x48, 0x8b,
                                               0x18, 0x66, 0xba, 0xf8, 0x03, 0x88, 0xd8, 0xee} +
         test::i8042_reset();
}

TEST(HotplugMemslot, APluggedBlockIsGuestRam) {
  Vm vm;
  vm.region().plug(5, 1);
  vm.load(write_read_back(vm.block(5) + 8));
  vm.machine->start();
  VmExit exit = vm.machine->wait();
  EXPECT_EQ(exit.kind, ExitKind::Reset) << exit.describe();
  EXPECT_EQ(vm.output(), "Z");
  // The devices' view sees what the guest wrote.
  EXPECT_EQ(vm.machine->memory().read_obj<uint64_t>(vm.block(5) + 8), 0x5a5a5a5au);
}

// Whether the memfd holds a page behind the region's byte `offset`.
bool resident(HotplugRegion& region, uint64_t offset) {
  unsigned char vec = 0;
  EXPECT_EQ(mincore(region.guest_view() + offset, 4096, &vec), 0);
  return vec & 1;
}

// What KVM does with a guest access to a PROT_NONE page: KVM_RUN fails
// with EFAULT on VT-x/AMD-V (the VM stops with the line Vcpu::run gives),
// while PVM turns it into an MMIO exit that nothing claims (a read gives
// all ones, a write is dropped). Either way no host page backs it.
void expect_stopped_or_unbacked(const VmExit& exit, const std::string& console,
                                const std::string& unbacked_console) {
  if (exit.kind == ExitKind::InternalError) {
    EXPECT_NE(exit.describe().find("unplugged virtio-mem block?"), std::string::npos)
        << exit.describe();
  } else {
    EXPECT_EQ(exit.kind, ExitKind::Reset) << exit.describe();
    EXPECT_EQ(console, unbacked_console);
  }
}

TEST(HotplugMemslot, TouchingAnUnpluggedBlockGetsNoHostMemory) {
  Vm vm;
  vm.region().plug(0, 1);
  // Block 1 was never plugged.
  vm.load(write_read_back(vm.block(1) + 8));
  vm.machine->start();
  VmExit exit = vm.machine->wait();
  expect_stopped_or_unbacked(exit, vm.output(), "\xff");
  EXPECT_FALSE(resident(vm.region(), kBlock));
  EXPECT_EQ(vm.region().plugged_blocks(), 1u);
  EXPECT_EQ(vm.machine->memory().host_ptr(vm.block(1), 1), nullptr);
}

TEST(HotplugMemslot, UnpluggingUnderARunningGuestTakesTheBlockAway) {
  Vm vm;
  vm.region().plug(2, 1);
  // Print '!', then read the block until it reads all ones, print '?' and
  // reset. Plugged, it reads zeros.
  vm.load(load_rax(vm.block(2)) +
          std::vector<uint8_t>{0x66, 0xba, 0xf8, 0x03,  // mov dx, 0x3f8
                               0xb0, 0x21, 0xee,        // mov al, '!'; out dx, al
                               0x48, 0x8b, 0x18,        // loop: mov rbx, [rax]
                               0x48, 0x83, 0xfb, 0xff,  // cmp rbx, -1
                               0x75, 0xf7,              // jne loop
                               0xb0, 0x3f, 0xee} +      // mov al, '?'; out dx, al
          test::i8042_reset());
  vm.machine->start();
  for (int i = 0; i < 10000 && vm.output().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(vm.output(), "!");
  vm.region().unplug(2, 1);
  VmExit exit = vm.machine->wait();
  expect_stopped_or_unbacked(exit, vm.output(), "!?");
  EXPECT_FALSE(resident(vm.region(), 2 * kBlock));
}

}  // namespace
}  // namespace vmrt::vmm
