// The boot GDT and identity page tables, decoded the way the CPU would.
#include "vmm/boot/gdt.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/page_tables.h"

namespace vmrt::vmm::boot {
namespace {

TEST(Gdt, SelectorsFollowTheBootProtocol) {
  // Documentation/arch/x86/boot.rst: __BOOT_CS 0x10, __BOOT_DS 0x18.
  EXPECT_EQ(kCode64Selector, 0x10);
  EXPECT_EQ(kDataSelector, 0x18);
}

TEST(Gdt, DescriptorsAreFlat) {
  EXPECT_EQ(gdt_entry(kCode32Selector), 0x00cf9b000000ffffu);
  EXPECT_EQ(gdt_entry(kCode64Selector), 0x00af9b000000ffffu);
  EXPECT_EQ(gdt_entry(kDataSelector), 0x00cf93000000ffffu);
  EXPECT_EQ(gdt_entry(kTssSelector), 0x00008b0000000067u);
  EXPECT_THROW(gdt_entry(kGdtEntries * 8), Error);
}

TEST(Gdt, SegmentsDecodeForKvm) {
  kvm_segment cs64 = gdt_segment(kCode64Selector);
  EXPECT_EQ(cs64.base, 0u);
  EXPECT_EQ(cs64.limit, 0xffffffffu);
  EXPECT_EQ(cs64.selector, kCode64Selector);
  EXPECT_EQ(cs64.type, 0xb);
  EXPECT_EQ(cs64.present, 1);
  EXPECT_EQ(cs64.s, 1);
  EXPECT_EQ(cs64.l, 1);
  EXPECT_EQ(cs64.db, 0);
  EXPECT_EQ(cs64.g, 1);
  EXPECT_EQ(cs64.unusable, 0);
  kvm_segment cs32 = gdt_segment(kCode32Selector);
  EXPECT_EQ(cs32.l, 0);
  EXPECT_EQ(cs32.db, 1);
  kvm_segment data = gdt_segment(kDataSelector);
  EXPECT_EQ(data.type, 0x3);
  EXPECT_EQ(data.db, 1);
  EXPECT_EQ(data.limit, 0xffffffffu);
  kvm_segment tr = gdt_segment(kTssSelector);
  EXPECT_EQ(tr.type, 0xb) << "busy TSS";
  EXPECT_EQ(tr.s, 0);
  EXPECT_EQ(tr.g, 0);
  EXPECT_EQ(tr.limit, 0x67u);
}

TEST(Gdt, DecodesBaseAndByteGranularLimit) {
  // base 0x12345678, limit 0xabcde, byte granular, present data segment.
  uint64_t entry = 0x120a93345678bcdeu;
  kvm_segment s = segment_from_gdt(entry, 0x28);
  EXPECT_EQ(s.base, 0x12345678u);
  EXPECT_EQ(s.limit, 0xabcdeu);
  EXPECT_EQ(s.g, 0);
  EXPECT_EQ(s.selector, 0x28);
  EXPECT_EQ(segment_from_gdt(0, 0).unusable, 1) << "a null descriptor is unusable";
}

TEST(Gdt, WriteReturnsWhatTheVcpuLoads) {
  auto mem = GuestMemory::create(16 << 20);
  mem.fill(layout::kIdt, 8, 0xff);
  GdtSetup g = write_gdt(mem, CpuMode::Protected32);
  EXPECT_EQ(g.gdt_base, layout::kGdt);
  EXPECT_EQ(g.gdt_limit, kGdtEntries * 8 - 1);
  EXPECT_EQ(g.idt_base, layout::kIdt);
  EXPECT_EQ(g.idt_limit, 7);
  EXPECT_EQ(mem.read_obj<uint64_t>(layout::kIdt), 0u) << "a null gate";
  EXPECT_EQ(g.cs.selector, kCode32Selector);
  EXPECT_EQ(g.data.selector, kDataSelector);
  EXPECT_EQ(g.tr.selector, kTssSelector);
  for (uint16_t i = 0; i < kGdtEntries; ++i)
    EXPECT_EQ(mem.read_obj<uint64_t>(layout::kGdt + i * 8), gdt_entry(i * 8));
  EXPECT_EQ(write_gdt(mem, CpuMode::Long64).cs.selector, kCode64Selector);
}

TEST(PageTables, IdentityMapFourGiBWithTwoMiBPages) {
  auto mem = GuestMemory::create(16 << 20);
  mem.fill(layout::kPml4, layout::kPageTablesEnd - layout::kPml4, 0xee);
  uint64_t cr3 = write_identity_page_tables(mem);
  EXPECT_EQ(cr3, layout::kPml4);
  EXPECT_EQ(mem.read_obj<uint64_t>(layout::kPml4), layout::kPdpt | 3);
  EXPECT_EQ(mem.read_obj<uint64_t>(layout::kPml4 + 8), 0u) << "stale entries are cleared";
  // Walk a few addresses as the MMU would: PML4 -> PDPT -> PD (2 MiB page).
  for (uint64_t va : {uint64_t{0}, uint64_t{0x1000000}, uint64_t{0x7fe00000}, uint64_t{0xfee00000},
                      (uint64_t{4} << 30) - 1}) {
    uint64_t pml4e = mem.read_obj<uint64_t>(cr3 + ((va >> 39) & 511) * 8);
    ASSERT_TRUE(pml4e & 1);
    uint64_t pdpte = mem.read_obj<uint64_t>((pml4e & ~0xfffull) + ((va >> 30) & 511) * 8);
    ASSERT_TRUE(pdpte & 1) << std::hex << va;
    EXPECT_FALSE(pdpte & 0x80) << "not a 1 GiB page";
    uint64_t pde = mem.read_obj<uint64_t>((pdpte & ~0xfffull) + ((va >> 21) & 511) * 8);
    EXPECT_EQ(pde & 0x83, 0x83u) << "present, writable, 2 MiB";
    EXPECT_EQ((pde & ~0x1fffffull) | (va & 0x1fffff), va) << std::hex << va;
  }
  EXPECT_EQ(mem.read_obj<uint64_t>(layout::kPdpt + 4 * 8), 0u) << "nothing above 4 GiB";
}

}  // namespace
}  // namespace vmrt::vmm::boot
