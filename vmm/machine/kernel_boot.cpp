#include "vmm/machine/kernel_boot.h"

#include "common/error.h"
#include "vmm/boot/kernel_loader.h"
#include "vmm/machine/boot_registers.h"

namespace vmrt::vmm {

std::string cmdline_for_cpus(const std::string& cmdline, uint32_t boot_cpus, uint32_t max_cpus) {
  if (max_cpus <= boot_cpus) return cmdline;
  std::string out = cmdline;
  if (!out.empty()) out += ' ';
  return out + fmt::format("maxcpus={}", boot_cpus);
}

void boot_kernel(Machine& machine, const KernelBootConfig& config) {
  // The MP table lists every vCPU; the command line says how many to start.
  boot::BootSetup setup = boot::load_kernel_files(
      machine.memory(),
      {config.kernel, config.initrd,
       cmdline_for_cpus(config.cmdline, machine.boot_vcpu_count(), machine.vcpu_count()),
       machine.vcpu_count()});
  // Checked after loading, so that a bad image is reported as such everywhere.
  if (Kvm::host_is_pvm())
    fail(
        "this host's KVM is PVM (the kvm_pvm module), which cannot run a normal guest kernel; "
        "use a host with VT-x/AMD-V, or run inside tools/testvm");
  machine.init_vcpus_for_boot();
  // Only the boot vCPU gets registers: the others wait for the kernel's
  // INIT/SIPI in the in-kernel local APIC.
  set_boot_registers(machine.vcpu(0), setup);
}

}  // namespace vmrt::vmm
