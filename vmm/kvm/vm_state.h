#pragma once
// What the KVM VM itself holds beyond its vCPUs: the in-kernel interrupt
// controllers, the PIT and the kvmclock base.

#include <linux/kvm.h>

#include <array>
#include <optional>

#include "vmm/kvm/kvm.h"
#include "vmm/kvm/vm.h"

namespace vmrt::vmm {

struct VmState {
  // Indexed by chip id: KVM_IRQCHIP_PIC_MASTER, _PIC_SLAVE, _IOAPIC.
  std::array<kvm_irqchip, 3> irqchip{};
  std::optional<kvm_pit_state2> pit;  // KVM_CAP_PIT_STATE2
  kvm_clock_data clock{};
};

VmState save_vm_state(const Kvm& kvm, const Vm& vm);
// The interrupt controllers and the PIT: before the vCPUs are restored.
void restore_vm_devices(const Kvm& kvm, const Vm& vm, const VmState& state);
// kvmclock continues from the saved value, so the guest's monotonic clock
// does not jump (its wall time is corrected from inside the guest). After
// the vCPUs, whose TSC writes would otherwise move the clock base again.
void restore_vm_clock(const Vm& vm, const VmState& state);

}  // namespace vmrt::vmm
