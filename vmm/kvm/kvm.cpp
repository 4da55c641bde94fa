#include "vmm/kvm/kvm.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

#include "common/error.h"
#include "vmm/kvm/kvm_lists.h"

namespace vmrt::vmm {

namespace {

struct RequiredCap {
  int cap;
  const char* name;
};

// Everything the VM setup uses unconditionally.
constexpr RequiredCap kRequired[] = {
    {KVM_CAP_IRQCHIP, "in-kernel irqchip"}, {KVM_CAP_PIT2, "in-kernel PIT"},
    {KVM_CAP_USER_MEMORY, "user memory"},   {KVM_CAP_SET_TSS_ADDR, "TSS address"},
    {KVM_CAP_EXT_CPUID, "extended CPUID"},  {KVM_CAP_IRQFD, "irqfd"},
    {KVM_CAP_IOEVENTFD, "ioeventfd"},       {KVM_CAP_IMMEDIATE_EXIT, "immediate exit"},
};

}  // namespace

Kvm Kvm::open(const std::string& path, UniqueFd opened) {
  Kvm kvm;
  kvm.fd_ = opened ? std::move(opened) : UniqueFd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!kvm.fd_) {
    int err = errno;
    if (err == ENOENT)
      throw Error(path +
                      " does not exist: this host has no KVM (load kvm-intel or kvm-amd, "
                      "or run inside a VM with nested virtualization)",
                  err);
    throw_errno("cannot open " + path, err);
  }
  int version = ioctl(kvm.fd_.get(), KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION)
    fail("{}: KVM API version {} is not the supported {}", path, version, KVM_API_VERSION);
  for (const RequiredCap& c : kRequired)
    if (kvm.check_extension(c.cap) <= 0) fail("{}: KVM lacks the {} capability", path, c.name);
  kvm.vcpu_mmap_size_ =
      check_sys(ioctl(kvm.fd_.get(), KVM_GET_VCPU_MMAP_SIZE, 0), "KVM_GET_VCPU_MMAP_SIZE");
  return kvm;
}

int Kvm::check_extension(int cap) const noexcept {
  int r = ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
  return r < 0 ? 0 : r;
}

int Kvm::max_vcpus() const noexcept {
  int n = check_extension(KVM_CAP_MAX_VCPUS);
  return n > 0 ? n : check_extension(KVM_CAP_NR_VCPUS);
}

std::vector<kvm_cpuid_entry2> Kvm::supported_cpuid() const {
  // Grow from small: KVM answers E2BIG until the buffer holds every entry.
  for (unsigned n = 64; n <= 4096; n *= 2) {
    KvmList<kvm_cpuid_entry2> list(n);
    if (ioctl(fd_.get(), kKvmGetSupportedCpuid, list.arg()) == 0) return list.entries();
    if (errno != E2BIG) throw_errno(fmt::format("KVM_GET_SUPPORTED_CPUID ({} entries)", n));
  }
  fail("KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
}

bool Kvm::host_is_pvm() {
  static const bool pvm = [] {
    if (const char* force = std::getenv("VMRT_ASSUME_PVM")) return force[0] == '1';
    struct stat st;
    return ::stat("/sys/module/kvm_pvm", &st) == 0;
  }();
  return pvm;
}

}  // namespace vmrt::vmm
