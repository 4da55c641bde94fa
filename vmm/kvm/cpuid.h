#pragma once
// The CPUID a vCPU sees: what KVM supports, with the hypervisor bit set and
// the APIC ID and topology leaves describing `count` single-threaded cores in
// one package, this vCPU being number `index`.

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace vmrt::vmm {

// Features KVM emulates but leaves out of KVM_GET_SUPPORTED_CPUID because
// they depend on a capability (the VMM checks it and says so here).
struct EmulatedFeatures {
  // KVM_CAP_TSC_DEADLINE_TIMER: the LAPIC timer in TSC-deadline mode. Without
  // it a guest calibrates the LAPIC timer against the PIT at boot, slowly,
  // and under nesting may even reject it and tick from the PIT.
  bool tsc_deadline_timer = false;
};

std::vector<kvm_cpuid_entry2> vcpu_cpuid(std::vector<kvm_cpuid_entry2> supported, uint32_t index,
                                         uint32_t count, EmulatedFeatures emulated = {});

}  // namespace vmrt::vmm
