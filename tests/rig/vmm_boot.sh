#!/usr/bin/env bash
# vmrt-vmm boots the real guest kernel, run inside tools/testvm: ELF vmlinux
# through PVH with 1 and 2 vCPUs, bzImage through the 64-bit boot protocol;
# reboot and poweroff exit 0, a panic exits 2 with the reason logged; the
# control socket answers info/pause/resume/shutdown; SIGTERM stops the VM;
# nothing is left behind.
#
#   vmm_boot.sh VMRT_VMM VMLINUX BZIMAGE INITRAMFS
set -uo pipefail
vmm=$1 vmlinux=$2 bzimage=$3 initramfs=$4
failures=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; failures=$((failures + 1)); fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# boot KERNEL CPUS ACTION: runs the VM to its end; sets out, log, rc.
boot() {
  timeout 120 "$vmm" --kernel "$1" --initrd "$initramfs" --cpus "$2" --mem 128 \
    --cmdline "console=ttyS0 reboot=k panic=-1 quiet VMRT_TEST_ACTION=$3" >"$work/out" 2>"$work/log"
  rc=$?
  out=$(cat "$work/out") log=$(cat "$work/log")
}
marker() { grep -o 'VMRT_GUEST_READY cpus=[0-9]* mem_kib=[0-9]*' <<<"$out"; }

for cpus in 1 2; do
  boot "$vmlinux" "$cpus" reboot
  check "vmlinux (PVH), $cpus vCPU(s): guest reboot exits 0 (rc $rc)" '[ $rc = 0 ]'
  check "vmlinux (PVH), $cpus vCPU(s): userspace sees $cpus CPU(s) ('$(marker)')" '[[ "$(marker)" == *"cpus=$cpus "* ]]'
  mem=$(marker) mem=${mem##*mem_kib=}
  check "guest sees most of its 128 MiB ($mem KiB)" '[ -n "$mem" ] && [ "$mem" -gt 100000 ] && [ "$mem" -le 131072 ]'
  [ $rc = 0 ] || { echo "$log"; tail -20 <<<"$out"; }
done

boot "$bzimage" 2 reboot
check "bzImage (64-bit boot protocol), 2 vCPUs: boots to userspace and exits 0 (rc $rc)" \
  '[ $rc = 0 ] && [[ "$(marker)" == *"cpus=2 "* ]]'
[ $rc = 0 ] || { echo "$log"; tail -20 <<<"$out"; }

boot "$vmlinux" 1 poweroff
check "guest poweroff exits 0 (rc $rc)" '[ $rc = 0 ] && [[ "$log" == *"powered off"* ]]'

boot "$vmlinux" 1 panic
check "guest kernel panic exits 2 (rc $rc)" '[ $rc = 2 ]'
check "the panic reason is logged" '[[ "$log" == *"guest kernel panic: Attempted to kill init"* ]]'

# A running guest under host control.
sock=$work/control.sock
ctl() { python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n"); print(s.makefile().readline().strip())' "$sock" "$1"; }
"$vmm" --kernel "$vmlinux" --initrd "$initramfs" --cpus 2 --mem 128 --control-socket "$sock" --console "$work/console" \
  --cmdline "console=ttyS0 reboot=k panic=-1 quiet VMRT_TEST_ACTION=hang" 2>"$work/log" &
pid=$!
for _ in $(seq 600); do grep -q VMRT_GUEST_READY "$work/console" 2>/dev/null && break; sleep 0.2; done
check "guest reached userspace under host control" 'grep -q VMRT_GUEST_READY "$work/console"'
reply=$(ctl '{"cmd":"info"}')
check "info reports a running VM with 2 vCPUs ($reply)" '[[ "$reply" == *"\"state\":\"running\""* && "$reply" == *"\"cpus\":2"* ]]'
reply=$(ctl '{"cmd":"pause"}')
check "pause ($reply)" '[[ "$reply" == *"\"state\":\"paused\""* ]]'
reply=$(ctl '{"cmd":"resume"}')
check "resume ($reply)" '[[ "$reply" == *"\"state\":\"running\""* ]]'
reply=$(ctl '{"cmd":"reboot-now"}')
check "an unknown command is refused ($reply)" '[[ "$reply" == *"\"ok\":false"* && "$reply" == *"unknown command"* ]]'
reply=$(ctl '{"cmd":"shutdown"}')
wait $pid
rc=$?
check "shutdown on the control socket ends the VM with 0 (rc $rc, $reply)" '[ $rc = 0 ]'
check "the control socket is removed" '[ ! -e "$sock" ]'

rm -f "$work/console"  # the marker of the previous VM must not count
"$vmm" --kernel "$vmlinux" --initrd "$initramfs" --mem 128 --console "$work/console" \
  --cmdline "console=ttyS0 reboot=k panic=-1 quiet VMRT_TEST_ACTION=hang" 2>"$work/log" &
pid=$!
for _ in $(seq 600); do grep -q VMRT_GUEST_READY "$work/console" 2>/dev/null && break; sleep 0.2; done
kill -TERM $pid
wait $pid
rc=$?
check "SIGTERM stops the VM in order (rc $rc)" '[ $rc = 0 ] && grep -q "SIGTERM" "$work/log"'

# SIGTERM while the VMM is still setting up is handled in order too.
"$vmm" --kernel "$vmlinux" --initrd "$initramfs" --mem 128 --console none \
  --cmdline "console=ttyS0 reboot=k panic=-1 quiet VMRT_TEST_ACTION=hang" 2>"$work/log" &
pid=$!
# As soon as the VMM has blocked its stop signals (SigBlk has SIGTERM, bit
# 15), i.e. while it is still setting up, not before it has started at all.
for _ in $(seq 2000); do
  blk=$(awk '/^SigBlk/{print $2}' /proc/$pid/status 2>/dev/null)
  [ -n "$blk" ] && (( 0x$blk & 0x4000 )) && break
done
kill -TERM $pid
wait $pid
rc=$?
check "SIGTERM during setup still stops in order (rc $rc)" '[ $rc = 0 ] || [ $rc = 1 ]'

check "no vmrt-vmm process is left" '! pgrep -x vmrt-vmm >/dev/null'
exit $((failures > 0))
