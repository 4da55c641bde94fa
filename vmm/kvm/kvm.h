#pragma once
// The /dev/kvm system handle: API checks, capabilities and the host facts the
// VMM needs before it creates a VM.

#include <linux/kvm.h>

#include <string>
#include <vector>

#include "common/fd.h"

namespace vmrt::vmm {

class Kvm {
 public:
  // Opens `path` (or takes `opened`, a /dev/kvm opened earlier, by a VMM
  // that has dropped the privileges to open it since) and checks the API
  // version and the capabilities the VMM relies on; throws vmrt::Error
  // naming what is missing.
  static Kvm open(const std::string& path = "/dev/kvm", UniqueFd opened = {});

  int fd() const noexcept { return fd_.get(); }
  // KVM_CHECK_EXTENSION on the system fd (0 when absent).
  int check_extension(int cap) const noexcept;
  int max_vcpus() const noexcept;
  int vcpu_mmap_size() const noexcept { return vcpu_mmap_size_; }
  // KVM_GET_SUPPORTED_CPUID, growing the buffer until it fits.
  std::vector<kvm_cpuid_entry2> supported_cpuid() const;

  // True when this host's KVM is PVM, the paravirtual KVM of nested clouds:
  // small payloads run, but a normal guest kernel cannot boot on it. Found
  // out once (in a jail, /sys is out of reach later).
  static bool host_is_pvm();

 private:
  UniqueFd fd_;
  int vcpu_mmap_size_ = 0;
};

}  // namespace vmrt::vmm
