#pragma once
// Everything KVM holds for one running x86 vCPU, read out for a snapshot
// and written back into a fresh vCPU of the same kind on restore.

#include <linux/kvm.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vmm/kvm/kvm.h"
#include "vmm/kvm/kvm_lists.h"
#include "vmm/kvm/vcpu.h"

namespace vmrt::vmm {

struct VcpuState {
  // The CPUID table set at boot: KVM never lets a vCPU run without it.
  std::vector<kvm_cpuid_entry2> cpuid;
  kvm_mp_state mp_state{};
  kvm_regs regs{};
  kvm_sregs sregs{};
  // The FPU/SSE/AVX state: XSAVE where KVM has KVM_CAP_XSAVE, else the
  // legacy FPU area (exactly one of the two is set).
  std::optional<KvmXsave> xsave;
  std::optional<kvm_fpu> fpu;
  std::optional<kvm_xcrs> xcrs;            // KVM_CAP_XCRS
  std::optional<kvm_debugregs> debugregs;  // KVM_CAP_DEBUGREGS
  kvm_lapic_state lapic{};
  std::vector<kvm_msr_entry> msrs;
  kvm_vcpu_events events{};
  std::optional<uint32_t> tsc_khz;  // KVM_CAP_GET_TSC_KHZ
};

// The MSRs a snapshot saves: what KVM_GET_MSR_INDEX_LIST reports (syscall
// MSRs, TSC, kvmclock and the other paravirtual MSRs, PAT, TSC deadline...)
// plus the MTRRs, which KVM emulates but does not list. save_vcpu_state
// keeps those that KVM_GET_MSRS actually returns on this vCPU.
std::vector<uint32_t> msrs_to_save(const Kvm& kvm);

// The vCPU must not be in KVM_RUN, and a pending I/O exit must have been
// completed (a KVM_RUN with immediate_exit) so the registers are final.
VcpuState save_vcpu_state(const Kvm& kvm, const Vcpu& vcpu, std::span<const uint32_t> msrs);

// Restores into a vCPU that has never run, in the order KVM needs: CPUID
// first (it decides which MSRs and XSAVE features are valid), MP state,
// registers, XSAVE, XCRs, debug registers, LAPIC (before the MSRs: the
// TSC-deadline MSR only takes with the LAPIC configured), MSRs, and the
// pending events last (SET_REGS and SET_SREGS drop pending exceptions).
// A TSC frequency that differs from this host's is set with
// KVM_SET_TSC_KHZ where KVM can scale the TSC. Throws vmrt::Error naming
// the piece that KVM refused.
void restore_vcpu_state(const Kvm& kvm, const Vcpu& vcpu, const VcpuState& state);

}  // namespace vmrt::vmm
