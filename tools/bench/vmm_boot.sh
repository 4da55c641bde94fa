#!/usr/bin/env bash
# Boot to guest userspace: vmrt-vmm against QEMU -M microvm, same kernel, same
# initramfs, same L1 VM, in one run, alternating. Reports the wall time from
# process start to the guest's marker line, the VMM process's CPU time and its
# peak RSS (which includes the guest pages it touched, for both alike), and
# the vmrt/QEMU ratios. Then, with each guest idle in userspace, the VMM's
# memory outside guest RAM (RSS of every mapping but the guest RAM one), and
# vmrt-vmm's own CPU time from process start to the first KVM_RUN.
#
#   tools/bench/vmm_boot.sh [RUNS]        (as root; inside tools/testvm unless this host boots guests)
#
# VMRT_BENCH_KERNEL=PATH boots that guest kernel instead of the build's (to
# compare two kernel configurations); the guest's MemTotal shows what the
# kernel itself keeps of the guest's RAM.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-5}
build=$repo/build
. "$repo/tools/rig/host_kvm.sh"
. "$repo/tools/rig/qemu_microvm.sh"
run_here_if_guests_boot VMRT_BENCH_INSIDE --timeout 1800 -- "$0" "$runs"

kernel=${VMRT_BENCH_KERNEL:-$build/guest-kernel/vmlinux} initrd=$build/tests/rig/test-initramfs.cpio
cmdline="console=ttyS0 reboot=k panic=-1 quiet"
vmrt=("$build/vmm/vmrt-vmm" --kernel "$kernel" --initrd "$initrd" --mem 128 --cpus 1 --cmdline "$cmdline")
qemu_microvm_argv 128 1 stdio "$kernel" "$initrd" "$cmdline"
qemu=("${qemu_argv[@]}")

# measure NAME CMD...: prints ms to marker, total ms, CPU ms (user+sys), max
# RSS KiB and the guest's MemTotal KiB.
measure() {
  local name=$1
  shift
  local t0 t1 line
  t0=$(date +%s%N)
  line=$(/usr/bin/time -f 'TIME %U %S %M' "$@" 2>&1 | while IFS= read -r l; do
    case "$l" in
      *VMRT_GUEST_READY*) echo "MARK $(date +%s%N) ${l##*mem_kib=}" ;;
      TIME*) echo "$l" ;;
      *"first KVM_RUN after"*) echo "SETUP ${l##*after }" ;;
    esac
  done)
  t1=$(date +%s%N)
  local mark cpu rss mem
  mark=$(awk '/^MARK/{print $2}' <<<"$line")
  mem=$(awk '/^MARK/{print $3 + 0}' <<<"$line")
  cpu=$(awk '/^TIME/{printf "%d", ($2+$3)*1000}' <<<"$line")
  rss=$(awk '/^TIME/{print $4}' <<<"$line")
  echo "$name $(((mark - t0) / 1000000)) $(((t1 - t0) / 1000000)) $cpu $rss $mem"
  [ "$name" != vmrt ] || awk '/^SETUP/{print "setup", $2}' <<<"$line"
}

# overhead NAME CMD...: boots a guest that stays up, then prints the VMM's
# RSS in KiB outside the guest RAM mapping (vmrt: the vmrt-guest-ram memfd;
# QEMU: its largest anonymous mapping, the RAM block).
overhead() {
  local name=$1 console
  shift
  console=$(mktemp)
  "$@" >"$console" 2>/dev/null &
  local pid=$!
  for _ in $(seq 600); do grep -q VMRT_GUEST_READY "$console" && break; sleep 0.1; done
  sleep 1
  awk -v n="$name" '
    /^[0-9a-f]+-[0-9a-f]+ / { cur = $0; size = 0 }
    /^Rss:/ { rss[cur] = $2; total += $2; if ($2 > max) { max = $2; maxmap = cur } }
    END {
      ram = 0
      for (m in rss) if (m ~ /vmrt-guest-ram/) ram += rss[m]
      if (n == "qemu") ram = max
      printf "%s_outside_guest_ram_kib %d\n", n, total - ram
    }' "/proc/$pid/smaps"
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  rm -f "$console"
}

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (package: time)" >&2; exit 1; }
echo "runs=$runs kernel=$(basename "$(dirname "$kernel")")/$(basename "$kernel") mem=128MiB cpus=1 (inside the nested rig: absolute times are TCG-inflated, compare ratios)"
printf '%-8s %12s %10s %8s %10s\n' vmm to_marker_ms total_ms cpu_ms maxrss_kib
results=$(for i in $(seq "$runs"); do measure vmrt "${vmrt[@]}"; measure qemu "${qemu[@]}"; done)
for name in vmrt qemu; do
  awk -v n=$name '$1==n {m+=$2; t+=$3; c+=$4; r+=$5; k++} END {printf "%-8s %12d %10d %8d %10d\n", n, m/k, t/k, c/k, r/k}' <<<"$results"
done
awk '$1=="vmrt"{a+=$2; ac+=$4; ar+=$5; k++} $1=="qemu"{b+=$2; bc+=$4; br+=$5} END {
  printf "ratio vmrt/qemu: boot-to-marker %.2f, cpu %.2f, maxrss %.2f\n", a/b, ac/bc, ar/br}' <<<"$results"
for name in vmrt qemu; do
  awk -v n=$name '$1==n {print $2}' <<<"$results" | sort -n | awk -v n=$name '{v[NR]=$1} END {
    printf "%s boot-to-marker median %d ms\n", n, v[int((NR+1)/2)]}'
done
awk '$1=="vmrt"{print "guest MemTotal (128 MiB guest):", $6, "KiB"; exit}' <<<"$results"
awk '$1=="setup"{print $2}' <<<"$results" | sort -n | awk '{v[NR]=$1} END {
  printf "vmrt-vmm start to first KVM_RUN: median %.2f CPU-ms (target <= 5)\n", v[int((NR+1)/2)]}'
hang=${cmdline/quiet/quiet VMRT_TEST_ACTION=hang}
o_vmrt=$(overhead vmrt "${vmrt[@]/$cmdline/$hang}")
o_qemu=$(overhead qemu "${qemu[@]/${cmdline/reboot=k/reboot=t}/${hang/reboot=k/reboot=t}}")
echo "$o_vmrt (target <= 3072)"
echo "$o_qemu"
awk '{v[NR]=$2} END {printf "ratio vmrt/qemu: memory outside guest RAM %.2f\n", v[1]/v[2]}' <<<"$o_vmrt
$o_qemu"

# From a snapshot (what a sandbox restored from a VM template does): the same
# guest, snapshotted idle in userspace, restored RUNS times; vmrt-vmm's CPU
# time from its start to the restored guest's first KVM_RUN, beside the
# cold boot's figure above.
snap=$(mktemp -d)
"${vmrt[@]/$cmdline/$hang}" --console "$snap/console" --control-socket "$snap/control.sock" \
  --snapshot-dir "$snap" >"$snap/vmm.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q VMRT_GUEST_READY "$snap/console" 2>/dev/null && break; sleep 0.1; done
python3 - "$snap/control.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"cmd":"snapshot"}\n')
print("snapshot:", s.recv(4096).decode().strip())
PY
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null || true
echo "snapshot files: state $(stat -c %s "$snap/state") bytes, memory $(du -k "$snap/memory" | cut -f1) KiB on disk of $(($(stat -c %s "$snap/memory") / 1024)) KiB"
for _ in $(seq "$runs"); do
  "$build/vmm/vmrt-vmm" --restore "$snap" --mem 128 --cpus 1 --console none >"$snap/restore.log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do grep -q "first KVM_RUN after" "$snap/restore.log" && break; sleep 0.05; done
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  grep -o "first KVM_RUN after [0-9.]*" "$snap/restore.log" | awk '{print $4}' || echo fail
done | sort -n | awk '{v[NR]=$1} END {
  printf "vmrt-vmm --restore start to first KVM_RUN: median %.2f CPU-ms\n", v[int((NR+1)/2)]}'
rm -rf "$snap"
