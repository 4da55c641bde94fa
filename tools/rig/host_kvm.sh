# Sourced by the scripts that need a KVM able to boot a real guest kernel.
# host_kvm_boots_guests: true when /dev/kvm is hardware KVM (VMX/SVM), not
# PVM; elsewhere such scripts run themselves inside tools/testvm.
host_kvm_boots_guests() {
  [ -e /dev/kvm ] && [ ! -e /sys/module/kvm_pvm ] && grep -qE '\b(vmx|svm)\b' /proc/cpuinfo
}
