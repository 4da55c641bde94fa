#pragma once
// vCPU and VM state (vmm/kvm) as parts of the state document, and back.
// Parsing only reads and checks the document; applying it to KVM is
// vmm/kvm's restore_* functions.

#include <nlohmann/json.hpp>
#include <string>

#include "vmm/kvm/vcpu_state.h"
#include "vmm/kvm/vm_state.h"

namespace vmrt::vmm::snapshot {

// Far more than KVM lists (about 60 MSRs, 100 CPUID leaves) yet small.
inline constexpr size_t kMaxMsrs = 1024;
inline constexpr size_t kMaxCpuidEntries = 1024;

nlohmann::json vcpu_state_to_json(const VcpuState& state);
// `path` names the value in messages ("vcpus[0]"). Throws vmrt::Error.
VcpuState parse_vcpu_state(const nlohmann::json& j, const std::string& path);

nlohmann::json vm_state_to_json(const VmState& state);
VmState parse_vm_state(const nlohmann::json& j, const std::string& path);

}  // namespace vmrt::vmm::snapshot
