#pragma once
// The one entry point for booting a guest kernel: loads the kernel (ELF
// vmlinux or bzImage, told apart by magic), its initrd and command line into
// guest RAM with the tables it needs (MP table, memory map, PVH start info or
// zero page, GDT, page tables), and says how the boot vCPU must start.
//
// A vmlinux with a XEN_ELFNOTE_PHYS32_ENTRY note boots through PVH (Pvh32);
// a vmlinux without it and every bzImage through the 64-bit Linux boot
// protocol (Linux64).
//
// Register state the vCPU code must set on the boot vCPU (the others wait for
// INIT/SIPI), all of it in BootSetup:
//
//  Pvh32 (Xen's docs/misc/pvh.pandoc): 32-bit protected mode, paging off.
//    CR0 = PE|ET, CR4 = 0, EFER = 0 (cr0/cr4/efer); CR3 unused.
//    CS = gdt.cs (flat 32-bit code, selector 0x08); DS/ES/FS/GS/SS = gdt.data
//    (flat 32-bit data, 0x18); TR = gdt.tr (busy 32-bit TSS, base 0, limit
//    0x67); GDTR = {gdt.gdt_base, gdt.gdt_limit}, IDTR = {gdt.idt_base,
//    gdt.idt_limit}.
//    EIP = entry; EBX = boot_info (hvm_start_info); EFLAGS = 0x2 (rflags);
//    other general registers 0.
//
//  Linux64 (Documentation/arch/x86/boot.rst, "64-bit boot protocol"): long
//    mode, paging on with the identity map of the first 4 GiB.
//    CR0 = PE|ET|PG, CR4 = PAE, EFER = LME|LMA (cr0/cr4/efer), CR3 = cr3.
//    CS = gdt.cs (64-bit code, __BOOT_CS 0x10); DS/ES/FS/GS/SS = gdt.data
//    (__BOOT_DS 0x18); TR = gdt.tr; GDTR/IDTR as above.
//    RIP = entry; RSI = boot_info (struct boot_params); RSP = RBP = rsp (a
//    small stack below the page tables); RFLAGS = 0x2, so interrupts are
//    off as the protocol requires; other general registers 0.

#include <cstdint>
#include <span>
#include <string>

#include "vmm/boot/gdt.h"
#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

struct BootConfig {
  std::span<const uint8_t> kernel;  // ELF vmlinux or bzImage bytes
  std::span<const uint8_t> initrd;  // empty for none
  std::string cmdline;
  uint32_t cpus = 1;
  // Names the kernel in error messages (its path when read from a file).
  std::string kernel_name = "";
};

// BootConfig with files instead of bytes.
struct BootFiles {
  std::string kernel;
  std::string initrd;  // empty for none
  std::string cmdline;
  uint32_t cpus = 1;
};

struct BootSetup {
  enum class Mode { Pvh32, Linux64 };
  Mode mode;
  uint64_t entry;      // RIP (EIP for Pvh32)
  uint64_t boot_info;  // Pvh32: EBX = hvm_start_info; Linux64: RSI = boot_params
  uint64_t cr3;        // Linux64: the identity page tables; 0 for Pvh32
  uint64_t initrd_addr;
  uint64_t initrd_size;
  GdtSetup gdt;
  uint64_t cr0;
  uint64_t cr4;
  uint64_t efer;
  uint64_t rflags;
  uint64_t rsp;  // Linux64 only; 0 for Pvh32
};

// Throws vmrt::Error naming the problem: a kernel that is neither an ELF
// vmlinux nor a bzImage, or malformed; an initrd that does not fit in guest
// RAM above the kernel; a command line longer than the kernel accepts or with
// a NUL byte; a vCPU count the MP table cannot describe.
BootSetup load_kernel(const GuestMemory& mem, const BootConfig& config);

// Reads the kernel and initrd (errors name the file: missing, unreadable,
// empty, larger than guest RAM) and calls load_kernel.
// The CPU state for starting at `entry` in `mode` with `boot_info` in
// EBX/RSI: writes the GDT and null IDT (and, for Linux64, the identity page
// tables) and fills every register field of BootSetup. load_kernel uses it;
// so do tests that start small payloads the way a kernel is started.
BootSetup entry_cpu_state(const GuestMemory& mem, BootSetup::Mode mode, uint64_t entry,
                          uint64_t boot_info);

BootSetup load_kernel_files(const GuestMemory& mem, const BootFiles& files);

}  // namespace vmrt::vmm::boot
