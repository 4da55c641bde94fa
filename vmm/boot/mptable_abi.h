#pragma once
// Intel MultiProcessor Specification 1.4 tables, under the names of the
// kernel's arch/x86/include/asm/mpspec_def.h (not part of the uapi headers,
// so declared here).

#include <cstdint>

namespace vmrt::vmm::boot {

#pragma pack(push, 1)
// MP floating pointer structure: found by scanning for "_MP_".
struct mpf_intel {
  char signature[4];  // "_MP_"
  uint32_t physptr;   // of the configuration table (mpc_table)
  uint8_t length;     // in 16-byte units: 1
  uint8_t specification;
  uint8_t checksum;  // all bytes of the structure sum to 0
  uint8_t feature1;  // 0: a configuration table is present
  uint8_t feature2;
  uint8_t feature3;
  uint8_t feature4;
  uint8_t feature5;
};

// Configuration table header, followed by `count` entries.
struct mpc_table {
  char signature[4];  // "PCMP"
  uint16_t length;    // header and entries, in bytes
  uint8_t spec;       // 4: version 1.4
  uint8_t checksum;   // all `length` bytes sum to 0
  char oem[8];
  char productid[12];
  uint32_t oemptr;
  uint16_t oemsize;
  uint16_t oemcount;  // number of entries
  uint32_t lapic;     // local APIC address
  uint32_t reserved;
};

struct mpc_cpu {
  uint8_t type;  // MP_PROCESSOR
  uint8_t apicid;
  uint8_t apicver;
  uint8_t cpuflag;
  uint32_t cpufeature;
  uint32_t featureflag;
  uint32_t reserved[2];
};

struct mpc_bus {
  uint8_t type;  // MP_BUS
  uint8_t busid;
  uint8_t bustype[6];  // "ISA   "
};

struct mpc_ioapic {
  uint8_t type;  // MP_IOAPIC
  uint8_t apicid;
  uint8_t apicver;
  uint8_t flags;
  uint32_t apicaddr;
};

// An I/O interrupt: bus IRQ `srcbusirq` reaches IOAPIC `dstapic` pin `dstirq`.
struct mpc_intsrc {
  uint8_t type;  // MP_INTSRC
  uint8_t irqtype;
  uint16_t irqflag;
  uint8_t srcbus;
  uint8_t srcbusirq;
  uint8_t dstapic;
  uint8_t dstirq;
};

// A local interrupt: what arrives on local APIC `destapic` input LINT0/LINT1.
struct mpc_lintsrc {
  uint8_t type;  // MP_LINTSRC
  uint8_t irqtype;
  uint16_t irqflag;
  uint8_t srcbusid;
  uint8_t srcbusirq;
  uint8_t destapic;  // 0xff: every local APIC
  uint8_t destapiclint;
};
#pragma pack(pop)

static_assert(sizeof(mpf_intel) == 16);
static_assert(sizeof(mpc_table) == 44);
static_assert(sizeof(mpc_cpu) == 20);
static_assert(sizeof(mpc_bus) == 8);
static_assert(sizeof(mpc_ioapic) == 8);
static_assert(sizeof(mpc_intsrc) == 8);
static_assert(sizeof(mpc_lintsrc) == 8);

// Entry types.
constexpr uint8_t kMpProcessor = 0;
constexpr uint8_t kMpBus = 1;
constexpr uint8_t kMpIoApic = 2;
constexpr uint8_t kMpIntSrc = 3;
constexpr uint8_t kMpLintSrc = 4;

// mpc_cpu.cpuflag
constexpr uint8_t kMpCpuEnabled = 1;        // CPU_ENABLED
constexpr uint8_t kMpCpuBootProcessor = 2;  // CPU_BOOTPROCESSOR
// mpc_ioapic.flags
constexpr uint8_t kMpIoApicUsable = 1;  // MPC_APIC_USABLE

// irqtype (enum mp_irq_source_types)
constexpr uint8_t kMpIrqInt = 0;     // mp_INT: vectored interrupt
constexpr uint8_t kMpIrqNmi = 1;     // mp_NMI
constexpr uint8_t kMpIrqExtInt = 3;  // mp_ExtINT: from the 8259 PIC
// irqflag: 0 is "conforms to the bus" (ISA: edge-triggered, active high).
constexpr uint16_t kMpIrqFlagConforming = 0;

constexpr uint8_t kMpAllLocalApics = 0xff;

}  // namespace vmrt::vmm::boot
