#include "vmm/boot/gdt.h"

#include "common/error.h"
#include "vmm/boot/layout.h"

namespace vmrt::vmm::boot {

namespace {

// A descriptor from its base, 20-bit limit and the 16 flag bits as the
// CPU stores them: G, D/B, L, AVL in bits 15:12; P, DPL, S, type in 7:0.
constexpr uint64_t descriptor(uint16_t flags, uint32_t base, uint32_t limit) {
  return ((uint64_t{base} & 0xff000000) << 32) | ((uint64_t{base} & 0x00ffffff) << 16) |
         (uint64_t{limit} & 0x0000ffff) | ((uint64_t{limit} & 0x000f0000) << 32) |
         ((uint64_t{flags} & 0xf0ff) << 40);
}

constexpr uint64_t kGdt[kGdtEntries] = {
    0, descriptor(0xc09b, 0, 0xfffff),  // code32: 4 GiB, G, D, present, execute/read, accessed
    descriptor(0xa09b, 0, 0xfffff),     // code64: as above with L instead of D
    descriptor(0xc093, 0, 0xfffff),     // data: 4 GiB, G, B, present, read/write, accessed
    // A busy 32-bit TSS (type 11) of the minimal 104 bytes at 0: PVH requires
    // TR to hold one, and VMX entry requires a busy TSS in TR in any mode.
    descriptor(0x008b, 0, 0x67),
    0,  // the TSS's upper half in long mode
};
static_assert(sizeof kGdt <= layout::kGdtMaxSize);
static_assert(kTssSelector / 8 + 1 < kGdtEntries);

}  // namespace

uint64_t gdt_entry(uint16_t selector) {
  size_t i = selector >> 3;
  if (i >= kGdtEntries) fail("no GDT entry for selector {:#x}", selector);
  return kGdt[i];
}

kvm_segment segment_from_gdt(uint64_t entry, uint16_t selector) {
  kvm_segment s{};
  s.base = ((entry >> 16) & 0xffffff) | ((entry >> 32) & 0xff000000);
  uint32_t limit = static_cast<uint32_t>((entry & 0xffff) | ((entry >> 32) & 0xf0000));
  s.g = (entry >> 55) & 1;
  // With G, the limit counts 4 KiB pages: the last byte is limit * 4096 + 4095.
  s.limit = s.g ? (limit << 12) | 0xfff : limit;
  s.selector = selector;
  s.type = (entry >> 40) & 0xf;
  s.s = (entry >> 44) & 1;
  s.dpl = (entry >> 45) & 3;
  s.present = (entry >> 47) & 1;
  s.avl = (entry >> 52) & 1;
  s.l = (entry >> 53) & 1;
  s.db = (entry >> 54) & 1;
  s.unusable = !s.present;
  return s;
}

kvm_segment gdt_segment(uint16_t selector) {
  return segment_from_gdt(gdt_entry(selector), selector);
}

GdtSetup write_gdt(const GuestMemory& mem, CpuMode mode) {
  for (size_t i = 0; i < kGdtEntries; ++i) mem.write_obj(layout::kGdt + i * 8, kGdt[i]);
  mem.write_obj(layout::kIdt, uint64_t{0});
  GdtSetup setup{};
  setup.gdt_base = layout::kGdt;
  setup.gdt_limit = kGdtEntries * 8 - 1;
  setup.idt_base = layout::kIdt;
  setup.idt_limit = 8 - 1;
  setup.cs = gdt_segment(mode == CpuMode::Long64 ? kCode64Selector : kCode32Selector);
  setup.data = gdt_segment(kDataSelector);
  setup.tr = gdt_segment(kTssSelector);
  return setup;
}

}  // namespace vmrt::vmm::boot
