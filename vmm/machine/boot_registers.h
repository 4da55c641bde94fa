#pragma once
// Puts the CPU state the boot loader decided (vmm/boot BootSetup) into a vCPU:
// the one translation from BootSetup to kvm_sregs/kvm_regs.

#include "vmm/boot/kernel_loader.h"
#include "vmm/kvm/vcpu.h"

namespace vmrt::vmm {

void set_boot_registers(Vcpu& cpu, const boot::BootSetup& setup);

}  // namespace vmrt::vmm
