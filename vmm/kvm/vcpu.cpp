#include "vmm/kvm/vcpu.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "vmm/kvm/kvm_lists.h"
#include "vmm/kvm/msr_index.h"

namespace vmrt::vmm {

namespace {
// LAPIC register offsets and LVT delivery modes (Intel SDM vol. 3, 10.5.1).
constexpr size_t kApicLvtLint0 = 0x350;
constexpr size_t kApicLvtLint1 = 0x360;
constexpr uint32_t kDeliveryExtInt = 0x7;
constexpr uint32_t kDeliveryNmi = 0x4;

uint32_t get_reg(const kvm_lapic_state& s, size_t off) {
  uint32_t v;
  std::memcpy(&v, s.regs + off, 4);
  return v;
}
void set_reg(kvm_lapic_state& s, size_t off, uint32_t v) { std::memcpy(s.regs + off, &v, 4); }
uint32_t set_delivery_mode(uint32_t lvt, uint32_t mode) { return (lvt & ~0x700u) | (mode << 8); }
}  // namespace

Vcpu Vcpu::create(const Kvm& kvm, const Vm& vm, uint32_t index) {
  Vcpu v;
  v.index_ = index;
  v.fd_ = UniqueFd(
      check_sys(ioctl(vm.fd(), KVM_CREATE_VCPU, index), fmt::format("KVM_CREATE_VCPU {}", index)));
  v.run_size_ = static_cast<size_t>(kvm.vcpu_mmap_size());
  void* p = mmap(nullptr, v.run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, v.fd_.get(), 0);
  if (p == MAP_FAILED) throw_errno(fmt::format("cannot map kvm_run of vCPU {}", index));
  v.run_ = static_cast<kvm_run*>(p);
  return v;
}

Vcpu::Vcpu(Vcpu&& other) noexcept
    : fd_(std::move(other.fd_)),
      run_(std::exchange(other.run_, nullptr)),
      run_size_(std::exchange(other.run_size_, 0)),
      index_(other.index_) {}

Vcpu::~Vcpu() {
  if (run_) munmap(run_, run_size_);
}

void Vcpu::set_cpuid(const std::vector<kvm_cpuid_entry2>& entries) const {
  KvmList<kvm_cpuid_entry2> list{std::span<const kvm_cpuid_entry2>(entries)};
  check_sys(ioctl(fd_.get(), kKvmSetCpuid2, list.arg()), "KVM_SET_CPUID2");
}

kvm_regs Vcpu::regs() const {
  kvm_regs r{};
  check_sys(ioctl(fd_.get(), KVM_GET_REGS, &r), "KVM_GET_REGS");
  return r;
}

void Vcpu::set_regs(const kvm_regs& r) const {
  check_sys(ioctl(fd_.get(), KVM_SET_REGS, &r), "KVM_SET_REGS");
}

kvm_sregs Vcpu::sregs() const {
  kvm_sregs s{};
  check_sys(ioctl(fd_.get(), KVM_GET_SREGS, &s), "KVM_GET_SREGS");
  return s;
}

void Vcpu::set_sregs(const kvm_sregs& s) const {
  check_sys(ioctl(fd_.get(), KVM_SET_SREGS, &s), "KVM_SET_SREGS");
}

void Vcpu::set_msrs(const std::vector<std::pair<uint32_t, uint64_t>>& msrs) const {
  std::vector<kvm_msr_entry> entries(msrs.size());
  for (size_t i = 0; i < msrs.size(); ++i) {
    entries[i].index = msrs[i].first;
    entries[i].data = msrs[i].second;
  }
  KvmList<kvm_msr_entry> list{std::span<const kvm_msr_entry>(entries)};
  int n = check_sys(ioctl(fd_.get(), kKvmSetMsrs, list.arg()), "KVM_SET_MSRS");
  if (static_cast<size_t>(n) != msrs.size())
    fail("KVM_SET_MSRS: MSR {:#x} was refused", msrs[static_cast<size_t>(n)].first);
}

void Vcpu::init_fpu() const {
  kvm_fpu fpu{};
  fpu.fcw = 0x37f;
  fpu.mxcsr = 0x1f80;
  check_sys(ioctl(fd_.get(), KVM_SET_FPU, &fpu), "KVM_SET_FPU");
}

void Vcpu::init_lapic_lints() const {
  kvm_lapic_state s{};
  check_sys(ioctl(fd_.get(), KVM_GET_LAPIC, &s), "KVM_GET_LAPIC");
  set_reg(s, kApicLvtLint0, set_delivery_mode(get_reg(s, kApicLvtLint0), kDeliveryExtInt));
  set_reg(s, kApicLvtLint1, set_delivery_mode(get_reg(s, kApicLvtLint1), kDeliveryNmi));
  check_sys(ioctl(fd_.get(), KVM_SET_LAPIC, &s), "KVM_SET_LAPIC");
}

void Vcpu::init_boot_msrs() const {
  set_msrs({
      {msr::kSysenterCs, 0},
      {msr::kSysenterEsp, 0},
      {msr::kSysenterEip, 0},
      {msr::kStar, 0},
      {msr::kCstar, 0},
      {msr::kKernelGsBase, 0},
      {msr::kSyscallMask, 0},
      {msr::kLstar, 0},
      {msr::kTsc, 0},
      // Fast string operations on, as firmware leaves them.
      {msr::kMiscEnable, msr::kMiscEnableFastString},
      // MTRRs enabled with write-back as the default memory type; without
      // this the kernel treats all RAM as uncached.
      {msr::kMtrrDefType, (1u << 11) | 6},
  });
}

// ", rip 0x.. cr2 0x.. cr3 0x..", or "" when the registers cannot be read.
std::string Vcpu::where_it_was() const {
  kvm_regs r{};
  kvm_sregs sr{};
  if (ioctl(fd_.get(), KVM_GET_REGS, &r) != 0 || ioctl(fd_.get(), KVM_GET_SREGS, &sr) != 0)
    return "";
  return fmt::format(", rip {:#x} cr2 {:#x} cr3 {:#x}", r.rip, sr.cr2, sr.cr3);
}

Vcpu::RunResult Vcpu::run() const {
  if (ioctl(fd_.get(), KVM_RUN, 0) == 0) return RunResult::Exit;
  if (errno == EINTR) return RunResult::Interrupted;
  // KVM parks a vCPU the guest has not started (mp_state UNINITIALIZED) in
  // KVM_RUN and returns EAGAIN once its LAPIC accepted an INIT or SIPI.
  if (errno == EAGAIN) return RunResult::Woken;
  // KVM could not map a guest page to host memory. A guest touching a
  // virtio-mem block that is not plugged (its host pages are PROT_NONE) is
  // one way; KVM (before 6.8) does not say which address, so the report
  // carries where the guest was, to tell that from a fault of the host's.
  if (errno == EFAULT) {
    int saved = errno;
    std::string where = where_it_was();
    errno = saved;
    throw_errno(fmt::format(
        "KVM_RUN on vCPU {}: a guest page has no host memory (an unplugged virtio-mem block?{})",
        index_, where));
  }
  throw_errno(fmt::format("KVM_RUN on vCPU {}", index_));
}

}  // namespace vmrt::vmm
