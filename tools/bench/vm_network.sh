#!/usr/bin/env bash
# The VMM's own network path, without CNI, containers or the agent: the same
# guest kernel and test /init (VMRT_TEST_ACTION=netserve: eth0 with a TCP
# echo server and a sink) on one tap, booted in turn by vmrt-vmm, by QEMU
# microvm with its userspace virtio-net on virtio-mmio (the same transport
# as vmrt-vmm) and, where /dev/vhost-net exists, by QEMU with vhost-net. Per
# VMM and round: the median round trip of 1-byte messages from the host,
# host -> guest throughput, and KVM's own count of the VM's exits per round
# trip (its debugfs statistics), which says where a round trip's time goes.
#
# Without a KVM that boots guests, all of it runs inside tools/testvm (one
# L1 VM); absolute figures there are those of an emulated CPU: compare the
# VMMs with each other.
#
#   tools/bench/vm_network.sh [MESSAGES] [MIB] [ROUNDS]     (as root; e.g. 1000 64 3)
#   VCPUS=N   guest vCPUs (default 1)
#   EXTRA='k=v ...'   more guest kernel parameters, for experiments
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
messages=${1:-1000} mib=${2:-64} rounds=${3:-3}
vcpus=${VCPUS:-1}
build=$repo/build
probe=$build/tools/bench/tcp_probe vmm=$build/vmm/vmrt-vmm
kernel=$build/guest-kernel/vmlinux initrd=$build/tests/rig/test-initramfs.cpio
for f in "$probe" "$vmm" "$kernel" "$initrd"; do
  [ -e "$f" ] || { echo "vm_network: $f is missing: build first (tcp_probe vmrt-vmm test_initramfs guest_kernel)" >&2; exit 1; }
done
. "$repo/tools/rig/host_kvm.sh"
. "$repo/tools/rig/qemu_microvm.sh"
run_here_if_guests_boot VMRT_BENCH_INSIDE --timeout 3600 --env "VCPUS=$vcpus" --env "EXTRA=${EXTRA:-}" \
  -- "$0" "$messages" "$mib" "$rounds"

tap=vmrtbench0 host_ip=10.91.0.1 guest_ip=10.91.0.2
work=$(mktemp -d)
vm=''
stop_vm() {
  [ -z "$vm" ] || { kill "$vm" 2>/dev/null; wait "$vm" 2>/dev/null || true; }
  vm=''
}
trap 'stop_vm; ip link del "$tap" 2>/dev/null; rm -rf "$work"' EXIT
ip tuntap add dev "$tap" mode tap vnet_hdr
ip addr add "$host_ip/24" dev "$tap"
ip link set "$tap" up
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
cmdline="console=ttyS0 reboot=k panic=-1 quiet VMRT_TEST_ACTION=netserve VMRT_TEST_IP=$guest_ip ${EXTRA:-}"
# The same guest MAC for every VM: the host's neighbour entry stays valid.
mac=52:54:00:12:34:56

vmms=(vmrt-vmm qemu)
[ -c /dev/vhost-net ] && vmms+=(qemu-vhost)

start_vm() {
  : >"$work/console"
  case "$1" in
    vmrt-vmm)
      "$vmm" --kernel "$kernel" --initrd "$initrd" --mem 256 --cpus "$vcpus" \
        --console "$work/console" --net-tap "$tap" --net-mac "$mac" --cmdline "$cmdline" \
        >"$work/log" 2>&1 &
      ;;
    qemu | qemu-vhost)
      local vhost=off
      [ "$1" = qemu ] || vhost=on
      qemu_microvm_argv 256 "$vcpus" "file:$work/console" "$kernel" "$initrd" "$cmdline"
      "${qemu_argv[@]}" -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=$vhost" \
        -device "virtio-net-device,netdev=n0,mac=$mac" >"$work/log" 2>&1 &
      ;;
  esac
  vm=$!
  for _ in $(seq 1800); do
    grep -q 'VMRT_NET_\(READY\|FAILED\)' "$work/console" 2>/dev/null && break
    kill -0 "$vm" 2>/dev/null || break
    sleep 0.1
  done
  grep -q VMRT_NET_READY "$work/console" || {
    echo "vm_network: $1 did not come up:" >&2
    tail -20 "$work/log" "$work/console" >&2
    exit 1
  }
}

# KVM's statistics of the VM that process $vm opened (one per process).
stats=(exits mmio_exits io_exits halt_exits irq_injections)
kvm_stats() {
  local dir
  dir=$(ls -d /sys/kernel/debug/kvm/"$vm"-* 2>/dev/null | head -1)
  [ -n "$dir" ] || { echo "vm_network: no KVM statistics for pid $vm" >&2; exit 1; }
  for s in "${stats[@]}"; do cat "$dir/$s"; done
}

echo "guest: $vcpus vCPU(s), 256 MiB; $messages round trips, $mib MiB per VM and round" \
  "(inside the nested rig: compare the VMMs)"
printf '%-11s %5s %9s %8s' vmm round rtt_us MiB/s
for s in "${stats[@]}"; do printf ' %15s' "$s/rt"; done
echo
for r in $(seq "$rounds"); do
  for v in "${vmms[@]}"; do
    start_vm "$v"
    "$probe" rtt "$guest_ip" 5001 50 >/dev/null  # warm-up: ARP, the first fork
    before=($(kvm_stats))
    rtt=$("$probe" rtt "$guest_ip" 5001 "$messages")
    after=($(kvm_stats))
    "$probe" sink "$guest_ip" 5002 4 >/dev/null
    mibs=$("$probe" sink "$guest_ip" 5002 "$mib")
    stop_vm
    printf '%-11s %5s %9s %8s' "$v" "$r" "$rtt" "$mibs"
    for i in "${!stats[@]}"; do
      awk -v a="${after[$i]}" -v b="${before[$i]}" -v n="$messages" 'BEGIN { printf " %15.2f", (a - b) / n }'
    done
    echo
  done
done
