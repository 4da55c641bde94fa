#!/usr/bin/env bash
# What a loaded guest costs L1: KVM's per-VM debugfs counters (exits,
# emulated instructions, injected interrupts, NPT faults ...) per second,
# sampled 5 s into the test init's load, for vmrt-vmm and QEMU microvm
# booting the same kernel and test initramfs with 2 vCPUs, ROUNDS times
# each. Runs where /dev/kvm boots guests (inside tools/testvm in the rig):
#
#   tools/testvm -- tools/rig/load_exits.sh [ROUNDS] [ACTION] [VMM_FLAG...]
#
# ACTION is the test init's (default shload); VMM_FLAGs go to vmrt-vmm
# (e.g. --hugepages, after reserving huge pages in L1).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$repo/build
rounds=${1:-2} action=${2:-shload}
shift $(($# < 2 ? $# : 2))
. "$repo/tools/rig/qemu_microvm.sh"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
kernel=$build/guest-kernel/vmlinux initrd=$build/tests/rig/test-initramfs.cpio
cmdline="console=ttyS0 reboot=k panic=-1 VMRT_TEST_ACTION=$action VMRT_TEST_SECONDS=30"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait; rm -rf "$work"' EXIT
counters="exits insn_emulation insn_emulation_fail irq_exits halt_exits io_exits mmio_exits
  irq_injections hypercalls pf_taken pf_fixed signal_exits"
sample() { for c in $counters; do printf '%s ' "$(cat "$1/$c" 2>/dev/null || echo 0)"; done; }
for round in $(seq "$rounds"); do
  for vmm in vmrt-vmm qemu-microvm; do
    console=$work/console.$vmm
    : >"$console"
    if [ $vmm = vmrt-vmm ]; then
      "$build/vmm/vmrt-vmm" "$@" --kernel "$kernel" --initrd "$initrd" --mem 512 --cpus 2 \
        --console "$console" --cmdline "$cmdline" >"$work/out" 2>&1 &
    else
      qemu_microvm_argv 512 2 "file:$console" "$kernel" "$initrd" "$cmdline"
      "${qemu_argv[@]}" >"$work/out" 2>&1 </dev/null &
    fi
    pid=$!
    for _ in $(seq 300); do grep -q VMRT_GUEST_READY "$console" && break; sleep 0.1; done
    dir=$(ls -d /sys/kernel/debug/kvm/"$pid"-* 2>/dev/null | head -1 || true)
    if [ -z "$dir" ]; then
      echo "round $round $vmm: the VM ended before its load began"
      wait "$pid" 2>/dev/null || true
      continue
    fi
    before=($(sample "$dir"))
    sleep 5
    after=($(sample "$dir"))
    if [ ! -d "$dir" ]; then
      echo "round $round $vmm: the VM ended before the second sample (lost under the load?)"
      wait "$pid" 2>/dev/null || true
      continue
    fi
    line="round $round $vmm per s:"
    i=0
    for c in $counters; do
      line+=" $c=$(((${after[$i]} - ${before[$i]}) / 5))"
      i=$((i + 1))
    done
    echo "$line"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
done
