#pragma once
// Puts a guest kernel into a Machine: refuses hosts whose KVM cannot run one,
// loads kernel, initrd and command line through vmm/boot, and sets the boot
// vCPU's registers for the entry the loader chose.

#include <string>

#include "vmm/machine/machine.h"

namespace vmrt::vmm {

struct KernelBootConfig {
  std::string kernel;
  std::string initrd;
  std::string cmdline;
};

void boot_kernel(Machine& machine, const KernelBootConfig& config);

}  // namespace vmrt::vmm
