#include "vmm/kvm/cpuid.h"

#include <bit>

namespace vmrt::vmm {

namespace {

constexpr uint32_t kHypervisorBit = 1u << 31;  // leaf 1 ECX
constexpr uint32_t kTscDeadline = 1u << 24;    // leaf 1 ECX: TSC-deadline LAPIC timer mode
constexpr uint32_t kHtt = 1u << 28;            // leaf 1 EDX: more than one logical CPU
// Leaf 0xB / 0x1F level types.
constexpr uint32_t kLevelSmt = 1;
constexpr uint32_t kLevelCore = 2;

uint32_t bits_for(uint32_t count) { return count <= 1 ? 0 : std::bit_width(count - 1); }

void set_topology_level(kvm_cpuid_entry2& e, uint32_t index, uint32_t count) {
  // EAX: shift to the next level's ID; EBX: logical CPUs at this level;
  // ECX: level number and type; EDX: x2APIC ID.
  switch (e.index) {
    case 0:
      e.eax = 0;
      e.ebx = 1;
      e.ecx = (kLevelSmt << 8) | 0;
      break;
    case 1:
      e.eax = bits_for(count);
      e.ebx = count;
      e.ecx = (kLevelCore << 8) | 1;
      break;
    default:
      e.eax = e.ebx = 0;
      e.ecx = e.index;  // invalid level ends the enumeration
      break;
  }
  e.edx = index;
}

}  // namespace

std::vector<kvm_cpuid_entry2> vcpu_cpuid(std::vector<kvm_cpuid_entry2> entries, uint32_t index,
                                         uint32_t count, EmulatedFeatures emulated) {
  for (kvm_cpuid_entry2& e : entries) {
    switch (e.function) {
      case 0x1:
        e.ecx |= kHypervisorBit;
        if (emulated.tsc_deadline_timer) e.ecx |= kTscDeadline;
        // EBX[31:24] initial APIC ID, [23:16] logical CPUs per package,
        // [15:8] CLFLUSH line size in quadwords (keep).
        e.ebx = (index << 24) | (std::max(count, 1u) << 16) | (e.ebx & 0xffff);
        if (count > 1)
          e.edx |= kHtt;
        else
          e.edx &= ~kHtt;
        break;
      case 0x4:
        // Deterministic cache parameters: EAX[31:26] cores per package - 1,
        // EAX[25:14] threads sharing this cache - 1 (caches are per core here).
        e.eax = (e.eax & 0x3fff) | ((count - 1) << 26);
        break;
      case 0x6:
        // No power-management MSRs are emulated: hide APERF/MPERF and EPB.
        e.ecx &= ~((1u << 0) | (1u << 3));
        break;
      case 0xb:
      case 0x1f:
        set_topology_level(e, index, count);
        break;
      case 0x80000008:
        // AMD: ECX[7:0] cores - 1, [15:12] APIC ID size.
        e.ecx = (e.ecx & ~0xf0ffu) | ((bits_for(count) & 0xf) << 12) | ((count - 1) & 0xff);
        break;
      default:
        break;
    }
  }
  return entries;
}

}  // namespace vmrt::vmm
