#pragma once
// The snapshot memory file: guest RAM byte for byte, every region in the
// order of its offset (so the file maps back with GuestMemory::map_private
// into the same layout). All-zero 4 KiB pages are left as holes: a VM
// booted to idle has touched a small part of its RAM, and the file then
// takes only that much disk and page cache.

#include <cstdint>

#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::snapshot {

// Replaces the contents of `fd` (a regular file) with RAM, sized to
// mem.size() with holes for zero pages. Throws vmrt::Error.
void write_memory_file(int fd, const GuestMemory& mem);

}  // namespace vmrt::vmm::snapshot
