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

// The command line as booted: `cmdline` with " maxcpus=<boot_cpus>" added
// when the machine has more vCPUs than the guest is to start. Linux then
// brings up only that many of the CPUs the MP table lists and leaves the
// others present but offline, to be onlined later through
// /sys/devices/system/cpu/cpuK/online (CONFIG_HOTPLUG_CPU). Added last, so
// it overrides a maxcpus= of the caller's.
std::string cmdline_for_cpus(const std::string& cmdline, uint32_t boot_cpus, uint32_t max_cpus);

// Boots with cmdline_for_cpus(config.cmdline, machine.boot_vcpu_count(),
// machine.vcpu_count()).
void boot_kernel(Machine& machine, const KernelBootConfig& config);

}  // namespace vmrt::vmm
