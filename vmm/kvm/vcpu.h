#pragma once
// One vCPU: its fd, its mmap'ed kvm_run, and the register, CPUID, MSR, FPU
// and LAPIC setup done before it first runs.

#include <linux/kvm.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/fd.h"
#include "vmm/kvm/kvm.h"
#include "vmm/kvm/vm.h"

namespace vmrt::vmm {

class Vcpu {
 public:
  static Vcpu create(const Kvm& kvm, const Vm& vm, uint32_t index);

  Vcpu(Vcpu&& other) noexcept;
  Vcpu& operator=(Vcpu&&) = delete;
  Vcpu(const Vcpu&) = delete;
  ~Vcpu();

  uint32_t index() const noexcept { return index_; }
  // For the state save and restore ioctls (vmm/kvm/vcpu_state.h).
  int fd() const noexcept { return fd_.get(); }
  kvm_run* run_state() const noexcept { return run_; }

  void set_cpuid(const std::vector<kvm_cpuid_entry2>& entries) const;
  kvm_regs regs() const;
  void set_regs(const kvm_regs& regs) const;
  kvm_sregs sregs() const;
  void set_sregs(const kvm_sregs& sregs) const;
  void set_msrs(const std::vector<std::pair<uint32_t, uint64_t>>& msrs) const;
  // x87 and SSE control words as after reset (FINIT, MXCSR default).
  void init_fpu() const;
  // LINT0 as ExtINT (the PIC's output) and LINT1 as NMI, as firmware leaves
  // them for the kernel.
  void init_lapic_lints() const;
  // The MSRs a booting kernel expects firmware to have set.
  void init_boot_msrs() const;

  enum class RunResult {
    Exit,         // an exit for the VMM to handle (run_state()->exit_reason)
    Interrupted,  // a signal or an immediate exit request (the caller checks why)
    Woken,        // a vCPU waiting for INIT/SIPI took one (EAGAIN): run again
  };
  // One KVM_RUN; throws on errors other than the above.
  RunResult run() const;

 private:
  Vcpu() = default;
  std::string where_it_was() const;

  UniqueFd fd_;
  kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
  uint32_t index_ = 0;
};

}  // namespace vmrt::vmm
