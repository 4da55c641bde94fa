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
// MTRRs: 8 variable ranges (base/mask pairs) and the fixed ranges of the
// first MiB.
constexpr uint32_t kMtrrPhysBase0 = 0x200;
constexpr uint32_t kMtrrVariableCount = 8;
constexpr uint32_t kMtrrFix64k00000 = 0x250;
constexpr uint32_t kMtrrFix16k80000 = 0x258;
constexpr uint32_t kMtrrFix16kA0000 = 0x259;
constexpr uint32_t kMtrrFix4kC0000 = 0x268;  // to 0x26f (0xf8000)
constexpr uint32_t kMtrrFix4kCount = 8;
// KVM's paravirtual MSRs (Documentation/virt/kvm/x86/msr.rst).
constexpr uint32_t kKvmAsyncPfInt = 0x4b564d06;
constexpr uint32_t kEfer = 0xc0000080;
constexpr uint32_t kStar = 0xc0000081;
constexpr uint32_t kLstar = 0xc0000082;
constexpr uint32_t kCstar = 0xc0000083;
constexpr uint32_t kSyscallMask = 0xc0000084;
constexpr uint32_t kKernelGsBase = 0xc0000102;

}  // namespace vmrt::vmm::msr
