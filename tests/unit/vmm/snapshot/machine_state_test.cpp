// Parsing of the state document: a valid one parses, and each kind of bad
// value is refused with a message naming where it is.
#include "vmm/snapshot/machine_state.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "common/error.h"
#include "common/fd.h"
#include "vmm/snapshot/kvm_state_json.h"
#include "vmm/snapshot/state_file.h"

namespace vmrt::vmm::snapshot {
namespace {

using json = nlohmann::json;

// A small but complete document (legacy FPU area instead of XSAVE, a few
// CPUID leaves and MSRs): what the fuzz seed holds.
json small_state() {
  VcpuState v;
  v.cpuid.resize(2);
  v.cpuid[0].function = 0;
  v.cpuid[1].function = 1;
  v.fpu = kvm_fpu{};
  v.msrs = {{0x10, 0, 12345}, {0xc0000081, 0, 0x23001000000000}};
  v.regs.rip = 0x1000;
  v.tsc_khz = 2'000'000;
  VmState vm;
  for (uint32_t id = 0; id < 3; ++id) vm.irqchip[id].chip_id = id;
  vm.pit = kvm_pit_state2{};
  Serial serial(nullptr, nullptr);
  I8042 i8042(nullptr);
  GuestMemory mem = GuestMemory::create(2 << 20);
  return {{"vcpus", json::array({vcpu_state_to_json(v)})},
          {"vm", vm_state_to_json(vm)},
          {"serial", serial.save_state()},
          {"i8042", i8042.save_state()},
          {"memory", ram_layout_to_json(mem)}};
}

std::string error_of(const json& doc) {
  try {
    parse_machine_state(doc);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

#define EXPECT_REFUSED(doc, text)                                           \
  do {                                                                      \
    std::string e = error_of(doc);                                          \
    EXPECT_NE(e.find(text), std::string::npos) << "error: \"" << e << "\""; \
  } while (0)

TEST(MachineState, ParsesAValidDocument) {
  MachineState s = parse_machine_state(small_state());
  ASSERT_EQ(s.vcpus.size(), 1u);
  EXPECT_EQ(s.vcpus[0].cpuid.size(), 2u);
  EXPECT_EQ(s.vcpus[0].regs.rip, 0x1000u);
  ASSERT_EQ(s.vcpus[0].msrs.size(), 2u);
  EXPECT_EQ(s.vcpus[0].msrs[0].data, 12345u);
  EXPECT_TRUE(s.vcpus[0].fpu.has_value());
  EXPECT_FALSE(s.vcpus[0].xsave.has_value());
  EXPECT_EQ(s.vcpus[0].tsc_khz, 2'000'000u);
  EXPECT_TRUE(s.vm.pit.has_value());
  EXPECT_EQ(s.memory.size, 2u << 20);
  EXPECT_EQ(s.serial.lcr, 0x03);
}

TEST(MachineState, RefusesABlobOfTheWrongSize) {
  json doc = small_state();
  doc["vcpus"][0]["regs"] = json::binary({1, 2, 3});
  EXPECT_REFUSED(doc, "vcpus[0].regs: 3 bytes, but the structure is 144 bytes");
  doc = small_state();
  doc["vm"]["clock"] = "not binary";
  EXPECT_REFUSED(doc, "vm.clock: expected binary data, got string");
  doc = small_state();
  doc["vcpus"][0]["msrs"] = json::binary(std::vector<uint8_t>(17));
  EXPECT_REFUSED(doc, "vcpus[0].msrs: 17 bytes is not a whole number of 16-byte entries");
}

TEST(MachineState, RefusesMissingPartsAndBadCounts) {
  json doc = small_state();
  doc.erase("vm");
  EXPECT_REFUSED(doc, "missing \"vm\"");
  doc = small_state();
  doc["vcpus"] = json::array();
  EXPECT_REFUSED(doc, "no vCPU");
  doc = small_state();
  doc["vcpus"] = json::array();
  for (int i = 0; i < 300; ++i) doc["vcpus"].push_back(1);
  EXPECT_REFUSED(doc, "300 elements, more than the 254 allowed");
  doc = small_state();
  doc["vcpus"][0]["msrs"] = json::binary(std::vector<uint8_t>((kMaxMsrs + 1) * 16));
  EXPECT_REFUSED(doc, "more than the 1024 allowed");
  doc = small_state();
  doc["vcpus"][0]["cpuid"] = json::binary({});
  EXPECT_REFUSED(doc, "CPUID table is empty");
  EXPECT_REFUSED(json::array(), "expected an object");
}

TEST(MachineState, RefusesAmbiguousFpuState) {
  json doc = small_state();
  doc["vcpus"][0]["xsave"] = json::binary(std::vector<uint8_t>(4096));
  EXPECT_REFUSED(doc, "exactly one of \"xsave\" and \"fpu\"");
  doc["vcpus"][0].erase("xsave");
  doc["vcpus"][0].erase("fpu");
  EXPECT_REFUSED(doc, "exactly one");
}

TEST(MachineState, RefusesIrqchipsOutOfPlace) {
  json doc = small_state();
  std::swap(doc["vm"]["irqchip"][0], doc["vm"]["irqchip"][2]);
  EXPECT_REFUSED(doc, "vm.irqchip[0]: chip id 2 where 0 belongs");
  doc = small_state();
  doc["vm"]["irqchip"].erase(2);
  EXPECT_REFUSED(doc, "2 chips, expected 3");
}

TEST(MachineState, RefusesABadRamLayout) {
  json doc = small_state();
  doc["memory"]["size"] = 4 << 20;
  EXPECT_REFUSED(doc, "the regions hold 0x200000 bytes, not the RAM size 0x400000");
  doc = small_state();
  doc["memory"]["regions"][0]["size"] = 4 << 20;
  EXPECT_REFUSED(doc, "memory.regions[0]: the region runs past the RAM size 0x200000");
  doc = small_state();
  doc["memory"]["regions"][0]["offset"] = 4096;
  EXPECT_REFUSED(doc, "offset 0x1000");
  doc = small_state();
  doc["memory"]["size"] = -1;
  EXPECT_REFUSED(doc, "memory.size: expected an unsigned integer, got -1");
}

TEST(MachineState, RefusesBadDeviceRegisters) {
  json doc = small_state();
  doc["serial"]["lcr"] = 256;
  EXPECT_REFUSED(doc, "serial.lcr: 256 is larger than 255");
  doc = small_state();
  doc["serial"]["ier"] = 0x10;
  EXPECT_REFUSED(doc, "serial.ier: 0x10 sets reserved bits");
  doc = small_state();
  doc["i8042"]["output"] = json::binary(std::vector<uint8_t>(100));
  EXPECT_REFUSED(doc, "i8042.output: 100 bytes");
  doc = small_state();
  doc["serial"]["fifo_enabled"] = 1;
  EXPECT_REFUSED(doc, "serial.fifo_enabled: expected a boolean");
}

TEST(MachineState, DevicesRoundTripTheirRegisters) {
  Serial serial(nullptr, nullptr);
  uint8_t lcr = 0x83;  // DLAB on
  serial.write(3, {&lcr, 1});
  uint8_t dll = 0x01;
  serial.write(0, {&dll, 1});
  Serial copy(nullptr, nullptr);
  copy.restore_state(Serial::parse_state(serial.save_state(), "serial"));
  uint8_t got = 0;
  copy.read(0, {&got, 1});
  EXPECT_EQ(got, 0x01) << "divisor latch restored, read with DLAB on";

  I8042 kbd(nullptr);
  uint8_t cmd = I8042::kCmdSelfTest;
  kbd.write(4, {&cmd, 1});
  I8042 kbd_copy(nullptr);
  kbd_copy.restore_state(I8042::parse_state(kbd.save_state(), "i8042"));
  uint8_t answer = 0;
  kbd_copy.read(0, {&answer, 1});
  EXPECT_EQ(answer, 0x55) << "the unread self-test answer survives";
}

// The fuzz target's seed must stay a valid state file as the format
// evolves. Regenerate it with VMRT_WRITE_SNAPSHOT_SEED=1.
TEST(MachineState, TheFuzzSeedIsAValidStateFile) {
  std::string path = std::string(VMRT_SOURCE_DIR) + "/vmm/snapshot/fuzz/corpus/small_state";
  if (std::getenv("VMRT_WRITE_SNAPSHOT_SEED")) {
    UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_TRUE(out);
    write_state_file(out.get(), small_state());
  }
  UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(in) << path;
  MachineState s = parse_machine_state(read_state_file(in.get()));
  EXPECT_EQ(s.vcpus.size(), 1u);
}

}  // namespace
}  // namespace vmrt::vmm::snapshot
