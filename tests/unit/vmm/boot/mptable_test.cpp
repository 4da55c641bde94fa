// The MP table as Linux's mpparse.c reads it: floating pointer, checksums,
// CPU entries, bus, IOAPIC, interrupt routing.
#include "vmm/boot/mptable.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "common/error.h"
#include "tests/support/error_text.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/mptable_abi.h"

namespace vmrt::vmm::boot {
namespace {

uint8_t byte_sum(const GuestMemory& mem, uint64_t gpa, uint64_t len) {
  auto s = mem.slice(gpa, len);
  return std::accumulate(s.begin(), s.end(), uint8_t{0},
                         [](uint8_t a, uint8_t b) { return static_cast<uint8_t>(a + b); });
}

class MpTable : public ::testing::TestWithParam<uint32_t> {
 protected:
  GuestMemory mem = GuestMemory::create(16 << 20);
};

TEST_P(MpTable, FloatingPointerAndTableHaveValidChecksums) {
  uint64_t used = write_mptable(mem, GetParam());
  auto fp = mem.read_obj<mpf_intel>(layout::kMpTable);
  EXPECT_EQ(std::memcmp(fp.signature, "_MP_", 4), 0);
  EXPECT_EQ(fp.length, 1);
  EXPECT_EQ(fp.specification, 4);
  EXPECT_EQ(fp.feature1, 0) << "a configuration table follows, no default configuration";
  EXPECT_EQ(byte_sum(mem, layout::kMpTable, sizeof fp), 0);
  // Linux scans 16-byte aligned addresses in 0xf0000-0xfffff.
  EXPECT_EQ(layout::kMpTable % 16, 0u);
  auto table = mem.read_obj<mpc_table>(fp.physptr);
  EXPECT_EQ(std::memcmp(table.signature, "PCMP", 4), 0);
  EXPECT_EQ(table.spec, 4);
  EXPECT_EQ(byte_sum(mem, fp.physptr, table.length), 0);
  EXPECT_EQ(table.lapic, layout::kLocalApic);
  EXPECT_EQ(used, sizeof fp + table.length);
  EXPECT_LE(fp.physptr + table.length, layout::kMpTable + layout::kMpTableMax);
}

TEST_P(MpTable, ListsEveryCpuBusIoApicAndInterrupt) {
  const uint32_t cpus = GetParam();
  write_mptable(mem, cpus);
  auto fp = mem.read_obj<mpf_intel>(layout::kMpTable);
  auto table = mem.read_obj<mpc_table>(fp.physptr);
  // CPUs, bus, IOAPIC, 24 interrupt sources, 2 local interrupts.
  EXPECT_EQ(table.oemcount, cpus + 1 + 1 + 24 + 2);
  uint64_t at = fp.physptr + sizeof table;
  for (uint32_t i = 0; i < cpus; ++i, at += sizeof(mpc_cpu)) {
    auto cpu = mem.read_obj<mpc_cpu>(at);
    EXPECT_EQ(cpu.type, kMpProcessor);
    EXPECT_EQ(cpu.apicid, i);
    EXPECT_EQ(cpu.apicver, 0x14);
    EXPECT_EQ(cpu.cpuflag & kMpCpuBootProcessor, i == 0 ? kMpCpuBootProcessor : 0) << i;
    EXPECT_TRUE(cpu.cpuflag & kMpCpuEnabled);
  }
  auto bus = mem.read_obj<mpc_bus>(at);
  at += sizeof bus;
  EXPECT_EQ(bus.type, kMpBus);
  EXPECT_EQ(std::memcmp(bus.bustype, "ISA   ", 6), 0);
  auto ioapic = mem.read_obj<mpc_ioapic>(at);
  at += sizeof ioapic;
  EXPECT_EQ(ioapic.type, kMpIoApic);
  EXPECT_EQ(ioapic.apicid, cpus) << "after the CPUs' APIC ids";
  EXPECT_EQ(ioapic.apicver, 0x11);
  EXPECT_EQ(ioapic.flags, kMpIoApicUsable);
  EXPECT_EQ(ioapic.apicaddr, layout::kIoApic);
  for (uint32_t irq = 0; irq <= 23; ++irq, at += sizeof(mpc_intsrc)) {
    auto src = mem.read_obj<mpc_intsrc>(at);
    EXPECT_EQ(src.type, kMpIntSrc);
    EXPECT_EQ(src.irqtype, kMpIrqInt);
    EXPECT_EQ(src.srcbus, bus.busid);
    EXPECT_EQ(src.srcbusirq, irq);
    EXPECT_EQ(src.dstapic, ioapic.apicid);
    EXPECT_EQ(src.dstirq, irq);
  }
  auto lint0 = mem.read_obj<mpc_lintsrc>(at);
  auto lint1 = mem.read_obj<mpc_lintsrc>(at + 8);
  EXPECT_EQ(lint0.type, kMpLintSrc);
  EXPECT_EQ(lint0.irqtype, kMpIrqExtInt);
  EXPECT_EQ(lint0.destapic, 0xff);
  EXPECT_EQ(lint0.destapiclint, 0);
  EXPECT_EQ(lint1.irqtype, kMpIrqNmi);
  EXPECT_EQ(lint1.destapiclint, 1);
  EXPECT_EQ(at + 16, fp.physptr + table.length) << "nothing after the last entry";
}

INSTANTIATE_TEST_SUITE_P(Cpus, MpTable, ::testing::Values(1u, 2u, 8u, 254u));

TEST(MpTableLimits, ZeroOrTooManyCpusAreRefused) {
  auto mem = GuestMemory::create(16 << 20);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "1 to 254 vCPUs, not 0",
                      vmrt::test::error_text([&] { write_mptable(mem, 0); }));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "not 255",
                      vmrt::test::error_text([&] { write_mptable(mem, 255); }));
  EXPECT_THROW(write_mptable(mem, UINT32_MAX), Error);
}

TEST(MpTableLimits, VirtioIrqsAreAmongTheRoutedPins) {
  EXPECT_GE(layout::virtio_mmio_slot_irq(0), 5u);
  EXPECT_EQ(layout::virtio_mmio_slot_irq(layout::kVirtioMaxSlots - 1), layout::kLastIrq);
  EXPECT_EQ(layout::virtio_mmio_slot_address(1), 0xd0001000u);
}

}  // namespace
}  // namespace vmrt::vmm::boot
