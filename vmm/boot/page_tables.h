#pragma once
// The identity page tables the 64-bit boot protocol requires: at entry the
// kernel's load address plus init_size, the zero page and the command line
// must be identity mapped. Here all of the first layout::kIdentityMapped
// bytes are, with 2 MiB pages.

#include <cstdint>

#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

// Writes PML4, PDPT and PDs at layout::kPml4..kPageTablesEnd; returns CR3.
uint64_t write_identity_page_tables(const GuestMemory& mem);

}  // namespace vmrt::vmm::boot
