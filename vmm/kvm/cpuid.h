#pragma once
// The CPUID a vCPU sees: what KVM supports, with the hypervisor bit set and
// the APIC ID and topology leaves describing `count` single-threaded cores in
// one package, this vCPU being number `index`.

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace vmrt::vmm {

std::vector<kvm_cpuid_entry2> vcpu_cpuid(std::vector<kvm_cpuid_entry2> supported, uint32_t index,
                                         uint32_t count);

}  // namespace vmrt::vmm
