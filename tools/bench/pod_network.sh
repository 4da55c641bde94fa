#!/usr/bin/env bash
# TCP between the host and a pod on CNI's bridge, a vmrt pod beside a runc
# pod on one private containerd: median round trip of 1-byte messages to an
# echo server in the pod, and host -> pod throughput into a sink, with the
# vmrt/runc ratios.
#
# vmrt needs a KVM that boots guests: without one (no /dev/kvm, or kvm_pvm)
# the whole comparison runs inside tools/testvm (runc too, same L1 VM). Absolute
# figures there are those of an emulated CPU; compare the ratios.
#
#   tools/bench/pod_network.sh [MESSAGES] [MIB]     (as root; e.g. 2000 256)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
messages=${1:-2000}
mib=${2:-256}
bench=$repo/build/tools/bench/pod_network
[ -x "$bench" ] || { echo "build first: cmake --build build --target pod_network" >&2; exit 1; }
. "$repo/tools/rig/host_kvm.sh"
run_here_if_guests_boot VMRT_BENCH_INSIDE --timeout 3600 -- "$0" "$messages" "$mib"
# KVM's statistics of the pod VM (its exits per round trip) are in debugfs.
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug || true
exec "$bench" --messages "$messages" --mib "$mib"
