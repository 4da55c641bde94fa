#pragma once
// The guest-physical layout the VMM sets up before the first instruction.
// Everything below 1 MiB mirrors what PC firmware would leave: boot tables in
// low RAM, the EBDA/BIOS area reserved, RAM from 1 MiB up to the MMIO hole.

#include <cstdint>

namespace vmrt::vmm::layout {

constexpr uint64_t kGdt = 0x500;
constexpr uint64_t kPvhStartInfo = 0x6000;
constexpr uint64_t kPvhModlist = 0x6100;
constexpr uint64_t kPvhMemmap = 0x6200;  // up to 128 entries of 24 bytes
constexpr uint64_t kZeroPage = 0x7000;   // struct boot_params
constexpr uint64_t kBootStack = 0x8ff0;
constexpr uint64_t kPml4 = 0x9000;
constexpr uint64_t kPdpt = 0xa000;
constexpr uint64_t kPd = 0xb000;  // 4 pages: 4 GiB of 2 MiB pages
constexpr uint64_t kCmdline = 0x20000;
constexpr uint64_t kCmdlineMax = 2048;    // x86 COMMAND_LINE_SIZE, with the NUL
constexpr uint64_t kEbdaStart = 0x9fc00;  // low RAM ends here
constexpr uint64_t kMpTable = 0xf0000;    // BIOS area, reserved in the e820 map
constexpr uint64_t kMpTableMax = 0x10000;
constexpr uint64_t kHighMemory = 0x100000;    // 1 MiB
constexpr uint64_t kBzImageLoad = 0x1000000;  // 16 MiB, the kernel's default

constexpr uint64_t kIoApic = 0xfec00000;
constexpr uint64_t kLocalApic = 0xfee00000;

// virtio-mmio slots: 4 KiB each from kVirtioMmioBase, IRQ kVirtioFirstIrq + n.
constexpr uint64_t kVirtioMmioBase = 0xd0000000;
constexpr uint64_t kVirtioMmioSize = 0x1000;
constexpr uint32_t kVirtioFirstIrq = 5;
constexpr uint32_t kLastIrq = 23;  // IOAPIC pins 0-23

}  // namespace vmrt::vmm::layout
