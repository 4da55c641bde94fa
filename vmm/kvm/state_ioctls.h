#pragma once
// The ioctls save_vcpu_state/save_vm_state and the restore functions make
// (vmm/kvm/vcpu_state.h, vm_state.h), for the seccomp allow list of the
// thread that snapshots or restores a VM. Kept beside the code that makes
// them so that the two change together.

#include <linux/kvm.h>

#include "vmm/kvm/kvm_lists.h"

namespace vmrt::vmm {

inline constexpr unsigned long kSaveStateIoctls[] = {
    KVM_CHECK_EXTENSION, kKvmGetMsrIndexList, KVM_GET_MP_STATE, kKvmGetCpuid2,
    KVM_GET_REGS,        KVM_GET_SREGS,       kKvmGetXsave,     KVM_GET_FPU,
    KVM_GET_XCRS,        KVM_GET_DEBUGREGS,   KVM_GET_LAPIC,    KVM_GET_TSC_KHZ,
    kKvmGetMsrs,         KVM_GET_VCPU_EVENTS, KVM_GET_IRQCHIP,  KVM_GET_PIT2,
    KVM_GET_CLOCK,
};

inline constexpr unsigned long kRestoreStateIoctls[] = {
    KVM_CHECK_EXTENSION, KVM_GET_TSC_KHZ, KVM_SET_TSC_KHZ, kKvmSetCpuid2,       KVM_SET_MP_STATE,
    KVM_SET_REGS,        KVM_SET_SREGS,   kKvmSetXsave,    KVM_SET_FPU,         KVM_SET_XCRS,
    KVM_SET_DEBUGREGS,   KVM_SET_LAPIC,   kKvmSetMsrs,     KVM_SET_VCPU_EVENTS, KVM_SET_IRQCHIP,
    KVM_SET_PIT2,        KVM_SET_CLOCK,
};

}  // namespace vmrt::vmm
