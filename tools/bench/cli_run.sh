#!/usr/bin/env bash
# `vmrt run` of a trivial command (busybox true) beside `runc run` and
# `runsc run` (gVisor, ptrace platform, no network) on the same bundle, in one
# run, alternating: wall time of the whole command, medians over RUNS, and
# the vmrt/runc and vmrt/runsc ratios. vmrt's time is broken down from its
# keeper's timing line: VMM start (devices set up), guest kernel boot to
# agent ready, container created, started, exited, VM stopped. vmrt also
# runs with its VMM jail turned off ([jail] enabled = false), for what the
# jail costs, booting each VM ([hypervisor] template = false) and restoring
# into memory of its own (template_memory = "private": a copy of the
# template's) beside the default, restoring it from a VM template (made by a
# warm-up run first) copy-on-write.
#
# vmrt needs a KVM that boots guests: without one (no /dev/kvm, or kvm_pvm)
# the whole comparison runs inside tools/testvm (runc and runsc too, same L1 VM).
# Then runc and runsc are also timed on the host itself for reference.
#
#   tools/bench/cli_run.sh [RUNS]        (as root)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-10}
build=$repo/build
vmrt_bin=$build/tools/vmrt/vmrt
# VMRT_CONFIG may name another configuration (e.g. another guest kernel).
export VMRT_CONFIG=${VMRT_CONFIG:-$build/vmrt-dev.toml}

work=$(mktemp -d "${TMPDIR:-/tmp}/cli-bench.XXXXXX")
cleanup() {
  for r in runc runsc; do
    command -v "$r" >/dev/null && "$r" --root "$work/$r-root" delete -f bench >/dev/null 2>&1 || true
  done
  [ -x "$vmrt_bin" ] && "$vmrt_bin" --root "$work/vmrt-root" delete -f bench >/dev/null 2>&1 || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

bundle=$work/bundle
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/true"
(cd "$bundle" && runc spec)
python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
s = json.load(open(p))
s["process"]["terminal"] = False
s["process"]["args"] = ["/bin/true"]
# Host network namespace for all three: runsc --network=none needs no CNI.
s["linux"]["namespaces"] = [n for n in s["linux"]["namespaces"] if n["type"] != "network"]
json.dump(s, open(p, "w"), indent=1)
PY

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# Successful runs' ms from FILE, median (or "-" when none succeeded).
median_of() { { grep -v fail "$1" || true; } | median; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)); else print "-"}'; }

# time_one NAME CMD...: prints the command's wall ms, or "fail".
time_one() {
  local t0 t1
  shift
  t0=$(now_ms)
  if "$@" >/dev/null 2>>"$work/errors"; then
    t1=$(now_ms)
    echo $((t1 - t0))
  else
    echo fail
  fi
}

runc_cmd=(runc --root "$work/runc-root" run --bundle "$bundle" bench)
runsc_cmd=(runsc --root "$work/runsc-root" --platform=ptrace --network=none run --bundle "$bundle" bench)
vmrt_cmd=("$vmrt_bin" --root "$work/vmrt-root" --log "$work/vmrt.log" run -b "$bundle" bench)
{ cat "$VMRT_CONFIG"; printf '\n[jail]\nenabled = false\n'; } >"$work/nojail.toml"
nojail_cmd=(env VMRT_CONFIG="$work/nojail.toml" "$vmrt_bin" --root "$work/vmrt-root" run -b "$bundle" bench)
# The build's configuration ends in its [hypervisor] table.
{ cat "$VMRT_CONFIG"; printf 'template = false\n'; } >"$work/cold.toml"
cold_cmd=(env VMRT_CONFIG="$work/cold.toml" "$vmrt_bin" --root "$work/vmrt-root" --log "$work/cold.log" run -b "$bundle" bench)
{ cat "$VMRT_CONFIG"; printf 'template_memory = "private"\n'; } >"$work/private.toml"
private_cmd=(env VMRT_CONFIG="$work/private.toml" "$vmrt_bin" --root "$work/vmrt-root" --log "$work/private.log" run -b "$bundle" bench)

# peers PLACE: runc and runsc, RUNS times each, alternating.
peers() {
  local place=$1
  : >"$work/runc.ms"
  : >"$work/runsc.ms"
  for _ in $(seq "$runs"); do
    command -v runc >/dev/null && time_one runc "${runc_cmd[@]}" >>"$work/runc.ms"
    command -v runsc >/dev/null && time_one runsc "${runsc_cmd[@]}" >>"$work/runsc.ms"
  done
  for r in runc runsc; do
    local m
    m=$(median_of "$work/$r.ms")
    echo "$place $r median_ms $m failures $(grep -c fail "$work/$r.ms" || true)"
  done
  if [ -s "$work/errors" ]; then
    echo "errors (first lines):"
    head -5 "$work/errors"
  fi
}

. "$repo/tools/rig/host_kvm.sh"
if [ "${VMRT_BENCH_INSIDE:-}" != 1 ] && ! host_kvm_boots_guests; then
  echo "== on the host ($(host_kvm_describe))"
  peers host
  echo "== inside tools/testvm (nested KVM; absolute times are TCG-inflated, compare ratios)"
  "$repo/tools/testvm" --timeout 3600 --env VMRT_BENCH_INSIDE=1 -- "$0" "$runs"
  exit
fi

# The warm-up makes the VM template (and fills the page cache for all).
time_one vmrt "${vmrt_cmd[@]}" >/dev/null
"$vmrt_bin" --root "$work/vmrt-root" delete bench >/dev/null 2>&1 || true
: >"$work/vmrt.log"
: >"$work/vmrt.ms"
: >"$work/nojail.ms"
: >"$work/cold.ms"
: >"$work/private.ms"
: >"$work/runc.ms"
: >"$work/runsc.ms"
for _ in $(seq "$runs"); do
  time_one vmrt "${vmrt_cmd[@]}" >>"$work/vmrt.ms"
  "$vmrt_bin" --root "$work/vmrt-root" delete bench >/dev/null 2>&1 || true
  time_one nojail "${nojail_cmd[@]}" >>"$work/nojail.ms"
  "$vmrt_bin" --root "$work/vmrt-root" delete bench >/dev/null 2>&1 || true
  time_one cold "${cold_cmd[@]}" >>"$work/cold.ms"
  "$vmrt_bin" --root "$work/vmrt-root" delete bench >/dev/null 2>&1 || true
  time_one private "${private_cmd[@]}" >>"$work/private.ms"
  "$vmrt_bin" --root "$work/vmrt-root" delete bench >/dev/null 2>&1 || true
  command -v runc >/dev/null && time_one runc "${runc_cmd[@]}" >>"$work/runc.ms"
  command -v runsc >/dev/null && time_one runsc "${runsc_cmd[@]}" >>"$work/runsc.ms"
done

vmrt_ms=$(median_of "$work/vmrt.ms")
runc_ms=$(median_of "$work/runc.ms")
runsc_ms=$(median_of "$work/runsc.ms")
nojail_ms=$(median_of "$work/nojail.ms")
cold_ms=$(median_of "$work/cold.ms")
private_ms=$(median_of "$work/private.ms")
echo "rig vmrt median_ms $vmrt_ms failures $(grep -c fail "$work/vmrt.ms" || true)"
echo "rig vmrt-cold-boot median_ms $cold_ms failures $(grep -c fail "$work/cold.ms" || true)"
echo "rig vmrt-private-memory median_ms $private_ms failures $(grep -c fail "$work/private.ms" || true)"
echo "rig vmrt-without-jail median_ms $nojail_ms failures $(grep -c fail "$work/nojail.ms" || true)"
echo "rig runc median_ms $runc_ms failures $(grep -c fail "$work/runc.ms" || true)"
echo "rig runsc median_ms $runsc_ms failures $(grep -c fail "$work/runsc.ms" || true)"
# The keeper's timing lines: milestones in ms since the keeper started.
echo "vmrt breakdown (medians, ms since the keeper started; the command adds its own start-up):"
# step_median LOG STEP: the median of STEP over the keepers' timing lines in LOG.
step_median() { { grep -o "timing ms: .*" "$1" || true; } | grep -o "$2 [0-9]*" | awk '{print $2}' | median; }
for k in keeper vmm_ready agent_ready sandbox_ready created started exited vm_stopped; do
  echo "  $k template $(step_median "$work/vmrt.log" "$k") cold $(step_median "$work/cold.log" "$k") private $(step_median "$work/private.log" "$k")"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "ratio vmrt/runc $(ratio "$vmrt_ms" "$runc_ms")  cold/runc $(ratio "$cold_ms" "$runc_ms")  template/cold $(ratio "$vmrt_ms" "$cold_ms")  private/shared $(ratio "$private_ms" "$vmrt_ms")  vmrt/runsc $(ratio "$vmrt_ms" "$runsc_ms")  jailed/unjailed $(ratio "$vmrt_ms" "$nojail_ms")"
if [ -s "$work/errors" ]; then
  echo "errors (first lines):"
  head -5 "$work/errors"
fi
