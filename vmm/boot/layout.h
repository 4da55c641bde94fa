#pragma once
// The guest-physical layout the VMM sets up before the first instruction.
// Everything below 1 MiB mirrors what PC firmware would leave: boot tables in
// low RAM, the EBDA/BIOS area reserved, RAM from 1 MiB up to the MMIO hole
// (GuestMemory continues RAM above 4 GiB).
//
// Low RAM, in order (each table has its own page so none can grow into
// another):
//   0x0500  GDT (up to 8 descriptors)          0x0540  IDT (one null gate)
//   0x6000  PVH hvm_start_info, modlist, memmap
//   0x7000  zero page (struct boot_params)     0x8ff0  boot stack top
//   0x9000  PML4, 0xa000 PDPT, 0xb000-0xefff four PDs (4 GiB of 2 MiB pages)
//   0x20000 kernel command line
//   0x9fc00-0xfffff reserved (EBDA, VGA, BIOS); the MP table at 0xf0000
//   0x100000 (1 MiB) and up: kernel, initrd (as high as allowed)

#include <cstdint>

namespace vmrt::vmm::boot::layout {

constexpr uint64_t kPage = 0x1000;

constexpr uint64_t kGdt = 0x500;
constexpr uint64_t kGdtMaxSize = 0x40;
constexpr uint64_t kIdt = 0x540;
constexpr uint64_t kPvhStartInfo = 0x6000;
constexpr uint64_t kPvhModlist = 0x6100;
constexpr uint64_t kPvhMemmap = 0x6200;  // to the zero page: 149 entries of 24 bytes
constexpr uint64_t kPvhMemmapEnd = 0x7000;
constexpr uint64_t kZeroPage = 0x7000;  // struct boot_params, one page
constexpr uint64_t kBootStack = 0x8ff0;
constexpr uint64_t kPml4 = 0x9000;
constexpr uint64_t kPdpt = 0xa000;
constexpr uint64_t kPd = 0xb000;  // kPdCount pages
constexpr uint64_t kPdCount = 4;  // one per GiB: the identity map covers 4 GiB
constexpr uint64_t kIdentityMapped = kPdCount << 30;
constexpr uint64_t kPageTablesEnd = kPd + kPdCount * kPage;

constexpr uint64_t kCmdline = 0x20000;
// x86 COMMAND_LINE_SIZE (2048), counting the terminating NUL.
constexpr uint64_t kCmdlineMax = 2048;

// Low RAM ends where a PC's Extended BIOS Data Area begins; from there to
// 1 MiB is reserved in the memory map.
constexpr uint64_t kEbdaStart = 0x9fc00;
// The MP floating pointer and table sit in the BIOS area 0xf0000-0xfffff,
// one of the places Linux scans (mpparse.c), with 64 KiB of room.
constexpr uint64_t kMpTable = 0xf0000;
constexpr uint64_t kMpTableMax = 0x10000;
constexpr uint64_t kHighMemory = 0x100000;  // 1 MiB: kernels and initrds load from here

// Where a bzImage's protected-mode kernel goes when its header gives no
// preferred address: code32_start's default (boot protocol, "bzImage").
constexpr uint64_t kBzImageDefaultLoad = 0x100000;

constexpr uint64_t kIoApic = 0xfec00000;
constexpr uint64_t kLocalApic = 0xfee00000;

// virtio-mmio slots: slot n is at kVirtioMmioBase + n * kVirtioMmioSize and
// raises IOAPIC pin kVirtioFirstIrq + n, up to kLastIrq.
constexpr uint64_t kVirtioMmioBase = 0xd0000000;
constexpr uint64_t kVirtioMmioSize = 0x1000;
constexpr uint32_t kVirtioFirstIrq = 5;
constexpr uint32_t kLastIrq = 23;  // IOAPIC pins 0-23
constexpr uint32_t kVirtioMaxSlots = kLastIrq - kVirtioFirstIrq + 1;

constexpr uint64_t virtio_mmio_slot_address(uint32_t slot) {
  return kVirtioMmioBase + uint64_t{slot} * kVirtioMmioSize;
}
constexpr uint32_t virtio_mmio_slot_irq(uint32_t slot) { return kVirtioFirstIrq + slot; }

// The tables must not overlap one another, and all of them must stay below
// the EBDA, except the MP table which lives in the reserved area.
static_assert(kIdt >= kGdt + kGdtMaxSize);
static_assert(kIdt + 8 <= kPvhStartInfo);
static_assert(kPvhModlist >= kPvhStartInfo + 56 && kPvhMemmap >= kPvhModlist + 32);
static_assert(kPvhMemmapEnd <= kZeroPage);
static_assert(kBootStack > kZeroPage + kPage && kBootStack <= kPml4);
static_assert(kPdpt == kPml4 + kPage && kPd == kPdpt + kPage);
static_assert(kPageTablesEnd <= kCmdline);
static_assert(kCmdline + kCmdlineMax <= kEbdaStart);
static_assert(kMpTable >= kEbdaStart && kMpTable + kMpTableMax <= kHighMemory);
static_assert(virtio_mmio_slot_address(kVirtioMaxSlots) <= kIoApic);
static_assert(kVirtioMmioBase >= 0xc0000000, "virtio-mmio slots live in the 32-bit MMIO hole");

}  // namespace vmrt::vmm::boot::layout

namespace vmrt::vmm {
// Code outside vmm/boot names the layout vmm::layout.
namespace layout = boot::layout;
}  // namespace vmrt::vmm
