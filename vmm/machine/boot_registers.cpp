#include "vmm/machine/boot_registers.h"

namespace vmrt::vmm {

void set_boot_registers(Vcpu& cpu, const boot::BootSetup& setup) {
  const boot::GdtSetup& gdt = setup.gdt;
  kvm_sregs s = cpu.sregs();
  s.gdt.base = gdt.gdt_base;
  s.gdt.limit = gdt.gdt_limit;
  s.idt.base = gdt.idt_base;
  s.idt.limit = gdt.idt_limit;
  s.cs = gdt.cs;
  s.ds = s.es = s.fs = s.gs = s.ss = gdt.data;
  s.tr = gdt.tr;
  s.cr0 = setup.cr0;
  s.cr3 = setup.cr3;
  s.cr4 = setup.cr4;
  s.efer = setup.efer;
  cpu.set_sregs(s);

  kvm_regs r{};
  r.rip = setup.entry;
  r.rflags = setup.rflags;
  r.rsp = r.rbp = setup.rsp;
  // The entry ABIs take the boot structure in different registers.
  if (setup.mode == boot::BootSetup::Mode::Pvh32)
    r.rbx = setup.boot_info;
  else
    r.rsi = setup.boot_info;
  cpu.set_regs(r);
}

}  // namespace vmrt::vmm
