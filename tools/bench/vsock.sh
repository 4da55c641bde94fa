#!/usr/bin/env bash
# vsock stream throughput and connect latency, host <-> guest through
# vmrt-vmm's hybrid vsock, beside a plain Unix socket echo in the same L1 VM
# as the ceiling (one run, side by side). The guest is the test guest whose
# /init runs an echo server on vsock port 5000.
#
#   tools/bench/vsock.sh [MIB] [CONNECTS]     (as root; inside tools/testvm unless this host boots guests)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
mib=${1:-256} connects=${2:-200}
build=$repo/build
. "$repo/tools/rig/host_kvm.sh"
run_here_if_guests_boot VMRT_BENCH_INSIDE --timeout 1800 -- "$0" "$mib" "$connects"
work=$(mktemp -d)
trap 'kill $vmm 2>/dev/null; rm -rf "$work"' EXIT
"$build/vmm/vmrt-vmm" --kernel "$build/guest-kernel/vmlinux" --initrd "$build/tests/rig/test-initramfs.cpio" \
  --mem 256 --cpus 2 --console "$work/console" --vsock-socket "$work/vm.sock" \
  --cmdline "console=ttyS0 reboot=k panic=-1 quiet VMRT_TEST_ACTION=vsock" 2>"$work/log" &
vmm=$!
for _ in $(seq 1200); do grep -q VMRT_VSOCK_READY "$work/console" 2>/dev/null && break; sleep 0.1; done
grep -q VMRT_VSOCK_READY "$work/console" || { cat "$work/log" "$work/console"; exit 1; }
echo "payload ${mib} MiB each way, ${connects} connects (inside the nested rig: compare ratios)"
v=$("$build/tools/bench/vsock_bench" vsock "$work/vm.sock" 5000 "$mib" "$connects")
u=$("$build/tools/bench/vsock_bench" unix "$mib" "$connects")
printf '%-22s %14s %12s\n' path connect_us MiB/s
printf '%-22s %14s %12s\n' "vsock (vmrt-vmm)" "$(awk '/connect_us/{print $2}' <<<"$v")" "$(awk '/throughput/{print $2}' <<<"$v")"
printf '%-22s %14s %12s\n' "unix socket (ceiling)" "$(awk '/connect_us/{print $2}' <<<"$u")" "$(awk '/throughput/{print $2}' <<<"$u")"
printf '%s\n%s\n' "$v" "$u" | awk '{k[$1] = k[$1] " " $2} END {
  split(k["throughput_mib_s"], t); split(k["connect_us"], c)
  printf "ratio vsock/unix: throughput %.2f, connect latency %.1fx\n", t[1] / t[2], c[1] / c[2] }'
