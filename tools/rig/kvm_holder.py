# Holds one KVM VM with one never-run vCPU open for L1's whole life (see
# tools/rig/l1-init): KVM then keeps SVM enabled on every CPU and its
# apic_sw_disabled static key set, rather than enabling and disabling both
# (IPIs to every CPU, and a patch of L1's kernel text) each time a test's
# guest VM is created and destroyed.
import fcntl, os, signal

KVM_CREATE_VM, KVM_CREATE_IRQCHIP, KVM_CREATE_VCPU = 0xAE01, 0xAE60, 0xAE41
kvm = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
vm = fcntl.ioctl(kvm, KVM_CREATE_VM, 0)
# An in-kernel irqchip, so that the vCPU gets a LAPIC (held software-disabled).
fcntl.ioctl(vm, KVM_CREATE_IRQCHIP, 0)
vcpu = fcntl.ioctl(vm, KVM_CREATE_VCPU, 0)
print(f"kvm-holder: holding VM fd {vm}, vCPU fd {vcpu}", flush=True)
signal.pause()
