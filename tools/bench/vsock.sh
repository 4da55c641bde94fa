#!/usr/bin/env bash
# vsock stream throughput and connect latency, host <-> guest through
# vmrt-vmm's hybrid vsock, beside the same guest under QEMU microvm with the
# kernel's vhost-vsock (the peer, where /dev/vhost-vsock exists) and a plain
# Unix socket echo in the same L1 VM as the ceiling (one run, side by side).
# The guest is the test guest whose /init runs an echo server on vsock port
# 5000.
#
#   tools/bench/vsock.sh [MIB] [CONNECTS]     (as root; inside tools/testvm unless this host boots guests)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
mib=${1:-256} connects=${2:-200}
build=$repo/build
. "$repo/tools/rig/host_kvm.sh"
. "$repo/tools/rig/qemu_microvm.sh"
run_here_if_guests_boot VMRT_BENCH_INSIDE --timeout 1800 -- "$0" "$mib" "$connects"
work=$(mktemp -d)
vm=''
trap '[ -z "$vm" ] || kill $vm 2>/dev/null; rm -rf "$work"' EXIT
kernel=$build/guest-kernel/vmlinux initrd=$build/tests/rig/test-initramfs.cpio
cmdline="console=ttyS0 reboot=k panic=-1 quiet VMRT_TEST_ACTION=vsock"
bench=$build/tools/bench/vsock_bench

# wait_ready CONSOLE: until the guest's echo server listens.
wait_ready() {
  for _ in $(seq 1200); do grep -q VMRT_VSOCK_READY "$1" 2>/dev/null && break; sleep 0.1; done
  grep -q VMRT_VSOCK_READY "$1" || { cat "$work/log" "$1"; exit 1; }
}
stop_vm() { kill "$vm" 2>/dev/null; wait "$vm" 2>/dev/null || true; vm=''; }

"$build/vmm/vmrt-vmm" --kernel "$kernel" --initrd "$initrd" \
  --mem 256 --cpus 2 --console "$work/console" --vsock-socket "$work/vm.sock" \
  --cmdline "$cmdline" 2>"$work/log" &
vm=$!
wait_ready "$work/console"
echo "payload ${mib} MiB each way, ${connects} connects (inside the nested rig: compare ratios)"
v=$("$bench" vsock "$work/vm.sock" 5000 "$mib" "$connects")
stop_vm
q=''
if [ -c /dev/vhost-vsock ]; then
  qemu_microvm_argv 256 2 "file:$work/qemu-console" "$kernel" "$initrd" "$cmdline"
  "${qemu_argv[@]}" -device vhost-vsock-device,guest-cid=42 >"$work/log" 2>&1 &
  vm=$!
  wait_ready "$work/qemu-console"
  q=$("$bench" vhost 42 5000 "$mib" "$connects")
  stop_vm
fi
u=$("$bench" unix "$mib" "$connects")
field() { awk -v k="$1" '$1 == k {print $2}' <<<"$2"; }
printf '%-26s %14s %12s %18s\n' path connect_us MiB/s "MiB/s vs unix"
row() {
  local t u_t
  t=$(field throughput_mib_s "$2") u_t=$(field throughput_mib_s "$u")
  printf '%-26s %14s %12s %18s\n' "$1" "$(field connect_us "$2")" "$t" \
    "$(awk -v a="$t" -v b="$u_t" 'BEGIN { printf "%.2f", a / b }')"
}
row "vsock (vmrt-vmm)" "$v"
[ -z "$q" ] || row "vhost-vsock (QEMU)" "$q"
row "unix socket (ceiling)" "$u"
