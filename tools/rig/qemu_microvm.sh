# Sourced by the scripts that boot the rig's reference VMM beside vmrt-vmm:
# QEMU -M microvm, no firmware tables or legacy devices, the kernel and
# initramfs loaded directly, as vmrt-vmm boots them.
#
# qemu_microvm_argv MEM_MIB VCPUS SERIAL KERNEL INITRD CMDLINE: sets the
# array qemu_argv to that command (SERIAL as for -serial: stdio, file:PATH);
# callers append their devices. CMDLINE as vmrt-vmm's guests get it: its
# reboot=k (reset through the i8042) becomes reboot=t (a triple fault),
# which is how the rig's QEMU guests end their VM.
qemu_microvm_argv() {
  qemu_argv=(qemu-system-x86_64 -M microvm,isa-serial=on,rtc=off,acpi=off -enable-kvm -cpu host
    -m "$1" -smp "$2" -nodefaults -no-user-config -nographic -no-reboot -serial "$3"
    -kernel "$4" -initrd "$5" -append "${6/reboot=k/reboot=t}")
}
