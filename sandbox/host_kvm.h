#pragma once
// Whether this host's KVM can boot a normal guest kernel. There are three
// kinds of host: one with no /dev/kvm at all (a cloud VM without nested
// virtualization, though its kernel may carry the KVM modules), one with a
// paravirtual KVM (kvm_pvm, found on nested cloud machines: it exposes
// /dev/kvm but cannot run guest kernel code, so a VM would fail deep inside
// the boot), and one with hardware KVM. vmrt says which, up front, in one line.

#include <filesystem>
#include <string>

namespace vmrt::sandbox {

enum class HostKvmKind {
  kNone,      // no /dev/kvm
  kClosed,    // /dev/kvm exists but cannot be opened
  kPvm,       // the paravirtual kvm_pvm
  kHardware,  // kvm_intel/kvm_amd on a CPU showing VMX or SVM
  kOther,     // a KVM that is neither (no VMX/SVM flag shown)
};

// Where the host is looked at: the real one by default; tests point it at a
// directory of their own.
struct HostKvmView {
  std::filesystem::path dev_kvm = "/dev/kvm";
  std::filesystem::path sys_module = "/sys/module";
  std::filesystem::path cpuinfo = "/proc/cpuinfo";
};

HostKvmKind host_kvm_kind(const HostKvmView& view = {});

// Empty when guests boot on this host; otherwise one line naming the kind of
// host, why a guest cannot boot on it, and the way out (the test rig).
std::string host_kvm_problem(const HostKvmView& view = {});

// Throws vmrt::Error with host_kvm_problem() unless guests boot here.
void check_host_kvm();

}  // namespace vmrt::sandbox
