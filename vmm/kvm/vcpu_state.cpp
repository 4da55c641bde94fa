#include "vmm/kvm/vcpu_state.h"

#include <spdlog/spdlog.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "common/error.h"
#include "vmm/kvm/msr_index.h"

namespace vmrt::vmm {

namespace {

// TSC frequencies within 250 ppm count as the same: hosts calibrate their
// TSC at boot with about that much spread.
constexpr int64_t kTscTolerancePpm = 250;

template <typename T>
T get(int fd, unsigned long req, const char* what) {
  T value{};
  check_sys(ioctl(fd, req, &value), what);
  return value;
}

template <typename T>
void set(int fd, unsigned long req, const T& value, const char* what) {
  check_sys(ioctl(fd, req, &value), what);
}

std::vector<kvm_cpuid_entry2> get_cpuid(const Vcpu& vcpu) {
  // KVM answers E2BIG until the buffer holds every entry.
  for (unsigned n = 64; n <= 4096; n *= 2) {
    KvmList<kvm_cpuid_entry2> list(n);
    if (ioctl(vcpu.fd(), kKvmGetCpuid2, list.arg()) == 0) return list.entries();
    if (errno != E2BIG) throw_errno("KVM_GET_CPUID2");
  }
  fail("KVM_GET_CPUID2: more than 4096 entries");
}

// Reads `indices`, leaving out those KVM refuses: KVM_GET_MSRS stops at the
// first MSR it cannot read and returns how many it did.
std::vector<kvm_msr_entry> get_msrs(const Vcpu& vcpu, std::span<const uint32_t> indices) {
  std::vector<kvm_msr_entry> want(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) want[i].index = indices[i];
  std::vector<kvm_msr_entry> got;
  while (!want.empty()) {
    KvmList<kvm_msr_entry> list{std::span<const kvm_msr_entry>(want)};
    int n = check_sys(ioctl(vcpu.fd(), kKvmGetMsrs, list.arg()), "KVM_GET_MSRS");
    std::vector<kvm_msr_entry> read = list.entries();
    size_t done = std::min<size_t>(static_cast<size_t>(n), read.size());
    got.insert(got.end(), read.begin(), read.begin() + static_cast<ptrdiff_t>(done));
    // Skip the refused one and go on after it.
    want.erase(want.begin(),
               want.begin() + static_cast<ptrdiff_t>(std::min(done + 1, want.size())));
  }
  return got;
}

// The order MSRs are written back: the TSC before the TSC deadline that is
// compared against it, the async-PF interrupt vector before the MSR that
// enables async page faults with it; the rest as saved.
std::vector<kvm_msr_entry> restore_order(std::vector<kvm_msr_entry> msrs) {
  auto rank = [](const kvm_msr_entry& e) {
    if (e.index == msr::kTsc) return 0;
    if (e.index == msr::kKvmAsyncPfInt) return 1;
    return 2;
  };
  std::stable_sort(msrs.begin(), msrs.end(), [&](const kvm_msr_entry& a, const kvm_msr_entry& b) {
    return rank(a) < rank(b);
  });
  return msrs;
}

void set_msrs(const Vcpu& vcpu, const std::vector<kvm_msr_entry>& msrs) {
  KvmList<kvm_msr_entry> list{std::span<const kvm_msr_entry>(msrs)};
  int n = check_sys(ioctl(vcpu.fd(), kKvmSetMsrs, list.arg()), "KVM_SET_MSRS");
  if (static_cast<size_t>(n) != msrs.size())
    fail("KVM_SET_MSRS: MSR {:#x} of the snapshot was refused", msrs[static_cast<size_t>(n)].index);
}

void restore_tsc_khz(const Kvm& kvm, const Vcpu& vcpu, uint32_t saved) {
  if (kvm.check_extension(KVM_CAP_GET_TSC_KHZ) <= 0) return;
  int here = ioctl(vcpu.fd(), KVM_GET_TSC_KHZ, 0);
  if (here <= 0) return;
  int64_t diff = std::abs(static_cast<int64_t>(here) - static_cast<int64_t>(saved));
  if (diff * 1'000'000 <= static_cast<int64_t>(saved) * kTscTolerancePpm) return;
  if (kvm.check_extension(KVM_CAP_TSC_CONTROL) > 0) {
    check_sys(ioctl(vcpu.fd(), KVM_SET_TSC_KHZ, static_cast<unsigned long>(saved)),
              fmt::format("KVM_SET_TSC_KHZ {}", saved));
    return;
  }
  // kvmclock tells the guest the new rate, so its clocks stay right; only
  // code reading the TSC directly sees it tick at another speed.
  SPDLOG_WARN(
      "vCPU {}: the snapshot's TSC ran at {} kHz, this host's at {} kHz, and KVM "
      "cannot scale it",
      vcpu.index(), saved, here);
}

}  // namespace

std::vector<uint32_t> msrs_to_save(const Kvm& kvm) {
  uint32_t count = 0;
  // With a count of 0 KVM answers E2BIG and says how many there are.
  if (ioctl(kvm.fd(), kKvmGetMsrIndexList, &count) != 0 && errno != E2BIG)
    throw_errno("KVM_GET_MSR_INDEX_LIST");
  std::vector<uint32_t> buf(1 + count);
  buf[0] = count;
  check_sys(ioctl(kvm.fd(), kKvmGetMsrIndexList, buf.data()), "KVM_GET_MSR_INDEX_LIST");
  std::vector<uint32_t> out(buf.begin() + 1, buf.begin() + 1 + std::min(buf[0], count));
  out.push_back(msr::kMtrrDefType);
  for (uint32_t i = 0; i < 2 * msr::kMtrrVariableCount; ++i) out.push_back(msr::kMtrrPhysBase0 + i);
  out.push_back(msr::kMtrrFix64k00000);
  out.push_back(msr::kMtrrFix16k80000);
  out.push_back(msr::kMtrrFix16kA0000);
  for (uint32_t i = 0; i < msr::kMtrrFix4kCount; ++i) out.push_back(msr::kMtrrFix4kC0000 + i);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

VcpuState save_vcpu_state(const Kvm& kvm, const Vcpu& vcpu, std::span<const uint32_t> msrs) {
  int fd = vcpu.fd();
  VcpuState s;
  // MP state first: reading it makes KVM process pending INIT/SIPI, which
  // can change the registers and the LAPIC read after it.
  s.mp_state = get<kvm_mp_state>(fd, KVM_GET_MP_STATE, "KVM_GET_MP_STATE");
  s.cpuid = get_cpuid(vcpu);
  s.regs = vcpu.regs();
  s.sregs = vcpu.sregs();
  if (kvm.check_extension(KVM_CAP_XSAVE) > 0)
    s.xsave = get<KvmXsave>(fd, kKvmGetXsave, "KVM_GET_XSAVE");
  else
    s.fpu = get<kvm_fpu>(fd, KVM_GET_FPU, "KVM_GET_FPU");
  if (kvm.check_extension(KVM_CAP_XCRS) > 0)
    s.xcrs = get<kvm_xcrs>(fd, KVM_GET_XCRS, "KVM_GET_XCRS");
  if (kvm.check_extension(KVM_CAP_DEBUGREGS) > 0)
    s.debugregs = get<kvm_debugregs>(fd, KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS");
  s.lapic = get<kvm_lapic_state>(fd, KVM_GET_LAPIC, "KVM_GET_LAPIC");
  if (kvm.check_extension(KVM_CAP_GET_TSC_KHZ) > 0) {
    int khz = ioctl(fd, KVM_GET_TSC_KHZ, 0);
    if (khz > 0) s.tsc_khz = static_cast<uint32_t>(khz);
  }
  s.msrs = get_msrs(vcpu, msrs);
  // Events last: the reads above may still change what is pending.
  s.events = get<kvm_vcpu_events>(fd, KVM_GET_VCPU_EVENTS, "KVM_GET_VCPU_EVENTS");
  return s;
}

void restore_vcpu_state(const Kvm& kvm, const Vcpu& vcpu, const VcpuState& s) {
  int fd = vcpu.fd();
  if (s.tsc_khz) restore_tsc_khz(kvm, vcpu, *s.tsc_khz);
  vcpu.set_cpuid(s.cpuid);
  set(fd, KVM_SET_MP_STATE, s.mp_state, "KVM_SET_MP_STATE");
  vcpu.set_regs(s.regs);
  vcpu.set_sregs(s.sregs);
  if (s.xsave) {
    if (kvm.check_extension(KVM_CAP_XSAVE) <= 0)
      fail("the snapshot has XSAVE state but this host's KVM lacks KVM_CAP_XSAVE");
    set(fd, kKvmSetXsave, *s.xsave, "KVM_SET_XSAVE");
  }
  if (s.fpu) set(fd, KVM_SET_FPU, *s.fpu, "KVM_SET_FPU");
  if (s.xcrs) {
    if (kvm.check_extension(KVM_CAP_XCRS) <= 0)
      fail("the snapshot has XCRs but this host's KVM lacks KVM_CAP_XCRS");
    set(fd, KVM_SET_XCRS, *s.xcrs, "KVM_SET_XCRS");
  }
  if (s.debugregs && kvm.check_extension(KVM_CAP_DEBUGREGS) > 0)
    set(fd, KVM_SET_DEBUGREGS, *s.debugregs, "KVM_SET_DEBUGREGS");
  set(fd, KVM_SET_LAPIC, s.lapic, "KVM_SET_LAPIC");
  set_msrs(vcpu, restore_order(s.msrs));
  kvm_vcpu_events events = s.events;
  // GET leaves these flags out, yet the saved fields are valid: without
  // them SET would drop a pending NMI and the SIPI vector.
  events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
  set(fd, KVM_SET_VCPU_EVENTS, events, "KVM_SET_VCPU_EVENTS");
}

}  // namespace vmrt::vmm
