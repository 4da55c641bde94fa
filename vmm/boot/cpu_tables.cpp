#include "vmm/boot/cpu_tables.h"

#include "common/error.h"
#include "vmm/boot/layout.h"

namespace vmrt::vmm::boot {

namespace {

// Descriptor = base/limit/flags packed as the CPU reads them (SDM 3.4.5).
constexpr uint64_t descriptor(uint16_t flags, uint32_t base, uint32_t limit) {
  return ((uint64_t{base} & 0xff000000) << 32) | ((uint64_t{base} & 0x00ffffff) << 16) |
         (uint64_t{limit} & 0x0000ffff) | ((uint64_t{limit} & 0x000f0000) << 32) |
         ((uint64_t{flags} & 0xf0ff) << 40);
}

// flags: G D/B L AVL (high nibble), then P DPL S Type (low byte).
constexpr uint64_t kGdt[kGdtEntries] = {
    0,
    descriptor(0xc09b, 0, 0xfffff),  // 32-bit code, for the PVH entry
    descriptor(0xa09b, 0, 0xfffff),  // 64-bit code
    descriptor(0xc093, 0, 0xfffff),  // data
    descriptor(0x008b, 0, 0x67),     // busy 32-bit TSS, as PVH requires for TR
};

constexpr uint64_t kPresentWritable = 0x3;
constexpr uint64_t kPageSize2M = 0x80;

}  // namespace

uint64_t gdt_entry(uint16_t selector) {
  size_t i = selector >> 3;
  if (i >= kGdtEntries) fail("no GDT entry for selector {:#x}", selector);
  return kGdt[i];
}

void write_gdt(const GuestMemory& mem) {
  for (size_t i = 0; i < kGdtEntries; ++i) mem.write_obj(layout::kGdt + i * 8, kGdt[i]);
}

uint64_t write_identity_page_tables(const GuestMemory& mem) {
  mem.fill(layout::kPml4, 0x1000, 0);
  mem.fill(layout::kPdpt, 0x1000, 0);
  mem.write_obj(layout::kPml4, layout::kPdpt | kPresentWritable);
  for (uint64_t gib = 0; gib < 4; ++gib) {
    uint64_t pd = layout::kPd + gib * 0x1000;
    mem.write_obj(layout::kPdpt + gib * 8, pd | kPresentWritable);
    for (uint64_t i = 0; i < 512; ++i)
      mem.write_obj(pd + i * 8, ((gib << 30) + (i << 21)) | kPresentWritable | kPageSize2M);
  }
  return layout::kPml4;
}

kvm_segment gdt_segment(uint16_t selector) {
  uint64_t d = gdt_entry(selector);
  kvm_segment s{};
  s.base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
  uint32_t limit = static_cast<uint32_t>((d & 0xffff) | ((d >> 32) & 0xf0000));
  s.g = (d >> 55) & 1;
  s.limit = s.g ? (limit << 12) | 0xfff : limit;
  s.selector = selector;
  s.type = (d >> 40) & 0xf;
  s.present = (d >> 47) & 1;
  s.dpl = (d >> 45) & 3;
  s.db = (d >> 54) & 1;
  s.s = (d >> 44) & 1;
  s.l = (d >> 53) & 1;
  s.avl = (d >> 52) & 1;
  return s;
}

}  // namespace vmrt::vmm::boot
