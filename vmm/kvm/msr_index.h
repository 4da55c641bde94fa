#pragma once
// Architectural MSR numbers (Intel SDM vol. 4, AMD APM vol. 2). The kernel's
// msr-index.h is not part of the uapi headers, so the few the VMM sets live
// here.

#include <cstdint>

namespace vmrt::vmm::msr {

constexpr uint32_t kTsc = 0x10;
constexpr uint32_t kSysenterCs = 0x174;
constexpr uint32_t kSysenterEsp = 0x175;
constexpr uint32_t kSysenterEip = 0x176;
constexpr uint32_t kMiscEnable = 0x1a0;
constexpr uint64_t kMiscEnableFastString = 1;
constexpr uint32_t kMtrrDefType = 0x2ff;
constexpr uint32_t kEfer = 0xc0000080;
constexpr uint32_t kStar = 0xc0000081;
constexpr uint32_t kLstar = 0xc0000082;
constexpr uint32_t kCstar = 0xc0000083;
constexpr uint32_t kSyscallMask = 0xc0000084;
constexpr uint32_t kKernelGsBase = 0xc0000102;

}  // namespace vmrt::vmm::msr
