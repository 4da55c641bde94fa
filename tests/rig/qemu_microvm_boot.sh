#!/usr/bin/env bash
# The guest boot reference, run inside tools/testvm: QEMU's microvm machine
# with KVM boots the project's guest kernel and the test initramfs to the
# userspace marker, with 1 and 2 vCPUs. It proves kernel + rig, and is the
# peer the VMM's boot is compared against (tools/bench/vmm_boot.sh).
#
#   qemu_microvm_boot.sh VMLINUX INITRAMFS
set -uo pipefail
. "$(dirname "$0")/../../tools/rig/qemu_microvm.sh"
vmlinux=$1 initramfs=$2
failures=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; failures=$((failures + 1)); fi; }

for cpus in 1 2; do
  qemu_microvm_argv 128 "$cpus" stdio "$vmlinux" "$initramfs" "console=ttyS0 reboot=t panic=-1 quiet"
  out=$(timeout 120 "${qemu_argv[@]}" 2>&1)
  rc=$?
  marker=$(grep -o 'VMRT_GUEST_READY cpus=[0-9]* mem_kib=[0-9]*' <<<"$out")
  check "microvm with $cpus vCPU(s) exits 0 after the guest reboots (rc $rc)" '[ $rc = 0 ]'
  check "guest reached userspace with $cpus vCPU(s) ('$marker')" '[[ "$marker" == *"cpus=$cpus "* ]]'
  mem=${marker##*mem_kib=}
  check "guest sees most of its 128 MiB ($mem KiB)" '[ -n "$mem" ] && [ "$mem" -gt 100000 ] && [ "$mem" -le 131072 ]'
  [ $failures = 0 ] || { echo "--- console ---"; echo "$out" | tail -20; }
done
exit $((failures > 0))
