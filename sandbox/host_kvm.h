#pragma once
// Whether this host's KVM can boot a normal guest kernel: a paravirtual KVM
// (kvm_pvm, found on nested cloud machines) exposes /dev/kvm but cannot run
// guest kernel code, and a VM would fail deep inside the boot. vmrt says so
// up front, in one line.

namespace vmrt::sandbox {

// Throws vmrt::Error naming the problem (no /dev/kvm, no access to it, or a
// KVM without hardware virtualization) and the way out: the test rig.
void check_host_kvm();

}  // namespace vmrt::sandbox
