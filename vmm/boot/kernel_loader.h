#pragma once
// Loads a guest kernel, its initrd and command line into guest RAM with the
// tables it needs (MP table, memory map, PVH start info or zero page), and
// says how the boot vCPU must start.
//
// Register state by mode:
//  Pvh32:   32-bit protected mode, paging off; CR0 = PE|ET; CS = code32
//           (kCode32Selector), DS/ES/FS/GS/SS = data (kDataSelector), TR =
//           kTssSelector; EBX = boot_info (hvm_start_info); EIP = entry;
//           EFLAGS = 0x2.
//  Linux64: long mode; CR0 = PE|ET|PG, CR4 = PAE, EFER = LME|LMA, CR3 = cr3;
//           CS = code64 (kCode64Selector), data segments kDataSelector;
//           RSI = boot_info (struct boot_params); RIP = entry; EFLAGS = 0x2.
// Both: GDTR = {layout::kGdt, kGdtEntries * 8 - 1}.

#include <cstdint>
#include <span>
#include <string>

#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

struct BootConfig {
  std::span<const uint8_t> kernel;  // ELF vmlinux or bzImage bytes
  std::span<const uint8_t> initrd;  // may be empty
  std::string cmdline;
  uint32_t cpus = 1;
};

struct BootSetup {
  enum class Mode { Pvh32, Linux64 };
  Mode mode;
  uint64_t entry;
  uint64_t boot_info;
  uint64_t cr3;  // Linux64 only
  uint64_t initrd_addr;
};

BootSetup load_kernel(const GuestMemory& mem, const BootConfig& config);

}  // namespace vmrt::vmm::boot
