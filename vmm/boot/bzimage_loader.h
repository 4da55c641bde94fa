#pragma once
// Loads a bzImage's protected-mode kernel for the 64-bit Linux boot protocol
// (Documentation/arch/x86/boot.rst): the setup header is validated, the
// kernel placed at its preferred address, and its 64-bit entry returned.
// The real-mode setup code is not loaded: with the 64-bit entry the VMM does
// its job (zero page, memory map, long mode).

#include <asm/bootparam.h>

#include <cstdint>
#include <span>

#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

struct LoadedBzImage {
  // The image's setup header with code32_start set to load_addr, for the
  // zero page.
  setup_header header;
  uint64_t load_addr;
  uint64_t entry64;  // load_addr + 0x200: startup_64 of the decompressor
  // First byte after the memory the kernel uses while it decompresses itself
  // (where it runs, plus init_size); the initrd must go above.
  uint64_t end;
};

// True when the image has the boot flag and "HdrS" (it may still be unusable).
bool is_bzimage(std::span<const uint8_t> image);

// Throws vmrt::Error naming the problem for a missing or old (< 2.12) header,
// no 64-bit entry (XLF_KERNEL_64), a kernel not loaded high, a bad
// kernel_alignment, a file shorter than its header promises, or a kernel that
// does not fit in guest RAM.
LoadedBzImage load_bzimage(const GuestMemory& mem, std::span<const uint8_t> image);

}  // namespace vmrt::vmm::boot
