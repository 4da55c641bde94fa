#include "vmm/kvm/vm_state.h"

#include <sys/ioctl.h>

#include "common/error.h"

namespace vmrt::vmm {

VmState save_vm_state(const Kvm& kvm, const Vm& vm) {
  VmState s;
  for (uint32_t id = 0; id < s.irqchip.size(); ++id) {
    s.irqchip[id].chip_id = id;
    check_sys(ioctl(vm.fd(), KVM_GET_IRQCHIP, &s.irqchip[id]),
              fmt::format("KVM_GET_IRQCHIP {}", id));
  }
  if (kvm.check_extension(KVM_CAP_PIT_STATE2) > 0) {
    kvm_pit_state2 pit{};
    check_sys(ioctl(vm.fd(), KVM_GET_PIT2, &pit), "KVM_GET_PIT2");
    s.pit = pit;
  }
  check_sys(ioctl(vm.fd(), KVM_GET_CLOCK, &s.clock), "KVM_GET_CLOCK");
  return s;
}

void restore_vm_devices(const Kvm& kvm, const Vm& vm, const VmState& s) {
  for (uint32_t id = 0; id < s.irqchip.size(); ++id) {
    kvm_irqchip chip = s.irqchip[id];
    chip.chip_id = id;
    check_sys(ioctl(vm.fd(), KVM_SET_IRQCHIP, &chip), fmt::format("KVM_SET_IRQCHIP {}", id));
  }
  if (s.pit) {
    if (kvm.check_extension(KVM_CAP_PIT_STATE2) <= 0)
      fail("the snapshot has PIT state but this host's KVM lacks KVM_CAP_PIT_STATE2");
    check_sys(ioctl(vm.fd(), KVM_SET_PIT2, &*s.pit), "KVM_SET_PIT2");
  }
}

void restore_vm_clock(const Vm& vm, const VmState& s) {
  kvm_clock_data clock{};
  clock.clock = s.clock.clock;
  // No KVM_CLOCK_REALTIME: the clock resumes at the saved value instead of
  // advancing by the time the snapshot sat on disk.
  check_sys(ioctl(vm.fd(), KVM_SET_CLOCK, &clock), "KVM_SET_CLOCK");
}

}  // namespace vmrt::vmm
