#pragma once
// Writes the MP floating pointer and configuration table that tell a kernel
// without ACPI how many CPUs there are, where the IOAPIC is and how ISA and
// virtio IRQs reach it.
//
// Contents: one mpc_cpu per vCPU (APIC ids 0..N-1, LAPIC version 0x14, the
// BSP flag on CPU 0), one ISA bus, the IOAPIC (id N, at layout::kIoApic,
// version 0x11), an I/O interrupt entry per IOAPIC pin 0..layout::kLastIrq
// carrying the same-numbered ISA IRQ (this is KVM's default GSI routing; the
// virtio-mmio IRQs are the pins from layout::kVirtioFirstIrq), and the local
// interrupts of every LAPIC: ExtINT on LINT0 (the 8259 PIC), NMI on LINT1.
//
// Every vCPU is listed enabled, also those the guest is not to start at
// boot (vCPU hotplug): Linux counts enabled CPUs as present, starts as many
// as maxcpus= says, and can online the rest later. A CPU listed disabled
// would only be possible, never present, without ACPI hotplug.

#include <cstdint>

#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::boot {

// APIC ids 0..N-1 go to the CPUs and N to the IOAPIC; 0xff is the broadcast id.
constexpr uint32_t kMaxMpCpus = 254;

// Writes at layout::kMpTable; returns the bytes used. Throws vmrt::Error for
// 0 or more than kMaxMpCpus CPUs, or a table that does not fit its area.
uint64_t write_mptable(const GuestMemory& mem, uint32_t cpus);

}  // namespace vmrt::vmm::boot
