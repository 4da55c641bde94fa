#pragma once
// Intel MultiProcessor Specification 1.4 tables (the kernel's
// arch/x86/include/asm/mpspec_def.h is not uapi, so declared here).

#include <cstdint>

namespace vmrt::vmm::boot {

#pragma pack(push, 1)
struct MpFloatingPointer {
  char signature[4];  // "_MP_"
  uint32_t physptr;
  uint8_t length;  // in 16-byte units
  uint8_t specification;
  uint8_t checksum;
  uint8_t feature[5];
};
struct MpConfigHeader {
  char signature[4];  // "PCMP"
  uint16_t length;
  uint8_t spec;
  uint8_t checksum;
  char oem[8];
  char product[12];
  uint32_t oemptr;
  uint16_t oemsize;
  uint16_t entry_count;
  uint32_t lapic;
  uint32_t reserved;
};
struct MpCpu {
  uint8_t type;  // 0
  uint8_t apicid;
  uint8_t apicver;
  uint8_t cpuflag;
  uint32_t cpufeature;
  uint32_t featureflag;
  uint32_t reserved[2];
};
struct MpBus {
  uint8_t type;  // 1
  uint8_t busid;
  char bustype[6];
};
struct MpIoApic {
  uint8_t type;  // 2
  uint8_t apicid;
  uint8_t apicver;
  uint8_t flags;
  uint32_t apicaddr;
};
struct MpIntSrc {
  uint8_t type;  // 3 (I/O interrupt) or 4 (local interrupt)
  uint8_t irqtype;
  uint16_t irqflag;
  uint8_t srcbus;
  uint8_t srcbusirq;
  uint8_t dstapic;
  uint8_t dstirq;
};
#pragma pack(pop)
static_assert(sizeof(MpFloatingPointer) == 16);
static_assert(sizeof(MpConfigHeader) == 44);
static_assert(sizeof(MpCpu) == 20);
static_assert(sizeof(MpBus) == 8);
static_assert(sizeof(MpIoApic) == 8);
static_assert(sizeof(MpIntSrc) == 8);

constexpr uint8_t kMpCpuEnabled = 1;
constexpr uint8_t kMpCpuBootProcessor = 2;
constexpr uint8_t kMpIrqInt = 0;
constexpr uint8_t kMpIrqNmi = 1;
constexpr uint8_t kMpIrqExtInt = 3;

}  // namespace vmrt::vmm::boot
