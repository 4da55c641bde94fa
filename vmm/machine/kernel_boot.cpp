#include "vmm/machine/kernel_boot.h"

#include "common/error.h"
#include "vmm/boot/cpu_tables.h"
#include "vmm/boot/image_file.h"
#include "vmm/boot/kernel_loader.h"
#include "vmm/boot/layout.h"
#include "vmm/kvm/msr_index.h"

namespace vmrt::vmm {

namespace {

constexpr uint64_t kCr0Pe = 1u << 0;
constexpr uint64_t kCr0Et = 1u << 4;
constexpr uint64_t kCr0Pg = 1u << 31;
constexpr uint64_t kCr4Pae = 1u << 5;
constexpr uint64_t kEferLme = 1u << 8;
constexpr uint64_t kEferLma = 1u << 10;

void set_boot_registers(Vcpu& cpu, const boot::BootSetup& setup) {
  using boot::gdt_segment;
  kvm_sregs s = cpu.sregs();
  s.gdt.base = layout::kGdt;
  s.gdt.limit = boot::kGdtEntries * 8 - 1;
  s.idt.base = 0;
  s.idt.limit = 0;
  kvm_segment data = gdt_segment(boot::kDataSelector);
  s.ds = s.es = s.fs = s.gs = s.ss = data;
  s.tr = gdt_segment(boot::kTssSelector);
  kvm_regs r{};
  r.rflags = 0x2;
  r.rip = setup.entry;
  if (setup.mode == boot::BootSetup::Mode::Pvh32) {
    s.cs = gdt_segment(boot::kCode32Selector);
    s.cr0 = kCr0Pe | kCr0Et;
    s.cr4 = 0;
    s.efer = 0;
    r.rbx = setup.boot_info;
  } else {
    s.cs = gdt_segment(boot::kCode64Selector);
    s.cr0 = kCr0Pe | kCr0Et | kCr0Pg;
    s.cr3 = setup.cr3;
    s.cr4 = kCr4Pae;
    s.efer = kEferLme | kEferLma;
    r.rsi = setup.boot_info;
    r.rsp = r.rbp = layout::kBootStack;
  }
  cpu.set_sregs(s);
  cpu.set_regs(r);
}

}  // namespace

void boot_kernel(Machine& machine, const KernelBootConfig& config) {
  const GuestMemory& mem = machine.memory();
  std::vector<uint8_t> kernel = boot::read_image_file("guest kernel", config.kernel, mem.size());
  std::vector<uint8_t> initrd;
  if (!config.initrd.empty()) initrd = boot::read_image_file("initrd", config.initrd, mem.size());
  boot::BootSetup setup =
      boot::load_kernel(mem, {kernel, initrd, config.cmdline, machine.vcpu_count()});
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
