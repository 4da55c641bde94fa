#pragma once
// Writes the MP floating pointer and configuration table that tell a kernel
// without ACPI how many CPUs there are, where the IOAPIC is and how ISA and
// virtio IRQs reach it.

#include <cstdint>

#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

constexpr uint32_t kMaxMpCpus = 254;

// Writes at layout::kMpTable; returns the bytes used. Throws for 0 or more
// than kMaxMpCpus CPUs.
uint64_t write_mptable(const GuestMemory& mem, uint32_t cpus);

}  // namespace vmrt::vmm::boot
