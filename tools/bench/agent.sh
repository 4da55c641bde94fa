#!/usr/bin/env bash
# Container create+start on the host, no VM: vmrt-agent through its gRPC API
# (CreateContainer + StartContainer on a Unix socket) against
# `runc create` + `runc start`, same busybox bundle and spec, alternating in
# one run. Reports median and mean latency and the agent/runc ratio (target
# <= 1), the agent's RSS after the runs, and the initramfs size.
#
#   tools/bench/agent.sh [RUNS]     (as root; BUILD=dir selects the build, default build)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-20}
build=${BUILD:-$repo/build}
client=$build/tests/root/agent/service/agent_service_bench
image=$build/rootfs-image/initramfs.cpio.gz
[ "$(id -u)" = 0 ] || { echo "agent.sh: needs root" >&2; exit 1; }
[ -x "$client" ] || { echo "agent.sh: build agent_service_bench first (ninja -C $build agent_service_bench rootfs-image)" >&2; exit 1; }
command -v runc >/dev/null || { echo "agent.sh: runc not found" >&2; exit 1; }

work=$(mktemp -d /tmp/agent-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The agent's runs also write the bundle runc uses.
"$client" "$runs" "$work/bundle" 2>/dev/null >"$work/agent.out"

runc_root=$work/runc-state
for i in $(seq "$runs"); do
  id=vmrt-bench-$$-$i
  t0=$(date +%s%N)
  runc --root "$runc_root" create --bundle "$work/bundle" "$id" </dev/null >/dev/null 2>&1
  runc --root "$runc_root" start "$id"
  t1=$(date +%s%N)
  echo "runc_ms $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e6}')"
  # Outside the timing: let `true` finish, then remove.
  while [ "$(runc --root "$runc_root" state "$id" 2>/dev/null | awk -F'"' '/"status"/ {print $4}')" = running ]; do
    sleep 0.01
  done
  runc --root "$runc_root" delete -f "$id"
done >"$work/runc.out"

# stats NAME FILE: "NAME median mean" over the NAME_ms lines.
stats() {
  grep "^$1_ms " "$2" | awk '{print $2}' | sort -n | awk -v n="$1" '
    {v[NR] = $1; s += $1}
    END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%s %.2f %.2f\n", n, m, s / NR}'
}
agent=$(stats agent "$work/agent.out")
runc=$(stats runc "$work/runc.out")
echo "container create+start, busybox true, $runs runs each (host, no VM)"
printf '%-6s %10s %10s\n' "" median_ms mean_ms
printf '%-6s %10s %10s\n' $agent
printf '%-6s %10s %10s\n' $runc
awk -v a="$agent" -v r="$runc" 'BEGIN {split(a, x, " "); split(r, y, " ");
  printf "ratio agent/runc: median %.2f, mean %.2f (target <= 1)\n", x[2] / y[2], x[3] / y[3]}'
awk '/^agent_rss_kib/ {r = $2} /^agent_hwm_kib/ {h = $2} END {
  printf "agent RSS after the runs: %d KiB (peak %d KiB), host build, shared libraries included\n", r, h}' "$work/agent.out"
if [ -f "$image" ]; then
  echo "initramfs: $(stat -c %s "$image") bytes compressed ($image)"
else
  echo "initramfs: not built (ninja -C $build rootfs-image)"
fi
