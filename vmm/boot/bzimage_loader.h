#pragma once
// Loads a bzImage's protected-mode kernel for the 64-bit Linux boot protocol
// (Documentation/x86/boot.rst): the setup header is validated, the kernel
// placed at its preferred address, and its 64-bit entry returned.

#include <asm/bootparam.h>

#include <cstdint>
#include <span>

#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

struct LoadedBzImage {
  setup_header header;  // as found in the image, for the zero page
  uint64_t load_addr;
  uint64_t entry64;  // load_addr + 0x200
  uint64_t end;      // load_addr + init_size: memory the kernel uses while decompressing
};

bool is_bzimage(std::span<const uint8_t> image);
LoadedBzImage load_bzimage(const GuestMemory& mem, std::span<const uint8_t> image);

}  // namespace vmrt::vmm::boot
