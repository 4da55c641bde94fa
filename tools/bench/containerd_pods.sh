#!/usr/bin/env bash
# Pods through containerd's CRI plugin, vmrt beside runc on one private
# containerd: pod start latency (RunPodSandbox sent -> StartContainer
# answered, median of RUNS one-container pods after a warm-up pod) with the
# vmrt/runc ratios, then the PSS of the shims and of the VMs per pod with
# 1, 5 and 10 pods running at once. vmrt runs as runtime handler `vmrt`
# (the default configuration: sandboxes restored from a VM template, which
# its warm-up pod makes) and `vmrt-cold` ([hypervisor] template = false:
# every VM boots), for the template/cold ratios; HANDLERS may add
# `vmrt-private` (template_memory = "private": each restored VM copies the
# template's memory) for the private/template ratios.
#
# vmrt needs a KVM that boots guests: without one (no /dev/kvm, or kvm_pvm)
# the whole comparison runs inside tools/testvm (runc too, same L1 VM). Absolute
# times there are inflated by the emulated CPU; compare the ratio.
#
#   tools/bench/containerd_pods.sh [RUNS] [POD_COUNTS] [HANDLERS]
#                            (as root; e.g. 5 1,5,10 runc,vmrt,vmrt-cold,vmrt-private)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-5}
counts=${2:-1,5,10}
handlers=${3:-runc,vmrt,vmrt-cold}
bench=$repo/build/tools/bench/containerd_pods
[ -x "$bench" ] || { echo "build first: cmake --build build --target containerd_pods" >&2; exit 1; }
. "$repo/tools/rig/host_kvm.sh"
# Ten pods, each with its guest RAM, need more than the rig's default memory.
run_here_if_guests_boot VMRT_BENCH_INSIDE --mem 6144 --timeout 5400 -- "$0" "$runs" "$counts" "$handlers"
exec "$bench" --runs "$runs" --pods "$counts" --handlers "$handlers"
