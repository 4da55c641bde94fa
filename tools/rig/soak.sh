#!/usr/bin/env bash
# Soak: many pod starts, `vmrt run`s and guest boots, every failure counted
# by its cause. Phases:
#   cri-sequential  N pods one after another through containerd's CRI plugin,
#                   runtime handler vmrt (a private containerd, as the rig
#                   tests start it): RunPodSandbox, a busybox container
#                   created and started, ExecSync `true`, stop and remove
#   cri-concurrent  batches of K such pods started at once
#   vmrt-run        N `vmrt run`s of a busybox bundle running `echo ok`, or
#                   with --run-load forkload forking /bin/true in two loops
#                   for 30 s first (with --hypervisor 'vcpus = 2', process
#                   churn on two vCPUs)
#   vmrt-vmm, qemu-microvm
#                   M boots of each, alternating, of the same kernel, test
#                   initramfs and vCPUs, the guest filling its memory on
#                   every vCPU (the test init's memload action), or with
#                   --boot-load forkload forking short-lived processes on
#                   every vCPU for 30 s, or --boot-load shload running the
#                   --run-load forkload loops (busybox sh exec'ing /bin/true)
#   cleanup         what is left afterwards (a vmrt-vmm process, a shim, a
#                   sandbox directory, a CRI pod): each one a failure
# Causes come from the evidence (tools/bench/failure_cause.h): the VMM's end
# reason, a kernel panic on the console, a timeout (of which call), the agent
# not answering, containerd's gRPC status, an exit status; the L1 VM dying
# when the soak runs inside tools/testvm. Prints one table per phase and the
# log directory, where every failure's evidence is; exits 0 only when
# nothing failed.
#
# Without a KVM that boots guests here the whole soak runs inside
# tools/testvm (the log directory is shared with it).
#
# --hypervisor LINES adds TOML lines to the [hypervisor] table of the build's
# runtime configuration (keys it does not set) for the pods and the `vmrt
# run`s, e.g. 'template_memory = "private"', to compare a setting's losses.
#
#   tools/rig/soak.sh [--pods N] [--concurrent K] [--batches B] [--runs N]
#                     [--boots M] [--vcpus N] [--boot-load memload|forkload|shload]
#                     [--run-load echo|forkload]
#                     [--hypervisor LINES]
#                     [--log-dir DIR]                             (as root)
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$repo/build
pods=100 concurrent=10 batches=1 runs=200 boots=50 vcpus=2 logdir= hypervisor= boot_load=memload run_load=echo
args=("$@")
usage() { sed -n '/^#   tools/,/(as root)/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --pods | --concurrent | --batches | --runs | --boots | --vcpus)
      [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "soak: $1 takes a number" >&2; exit 2; }
      declare "${1#--}=$2"
      shift 2 ;;
    --log-dir) logdir=${2:?}; shift 2 ;;
    --hypervisor) hypervisor=${2?}; shift 2 ;;
    --run-load)
      case "${2:-}" in echo | forkload) run_load=$2 ;; *) echo "soak: --run-load takes echo or forkload" >&2; exit 2 ;; esac
      shift 2 ;;
    --boot-load)
      case "${2:-}" in memload | forkload | shload) boot_load=$2 ;; *) echo "soak: --boot-load takes memload, forkload or shload" >&2; exit 2 ;; esac
      shift 2 ;;
    *) usage ;;
  esac
done
[ "$vcpus" -ge 1 ] || { echo "soak: --vcpus must be at least 1" >&2; exit 2; }

pod_soak=$build/tools/bench/pod_soak soak_cause=$build/tools/bench/soak_cause
vmrt=$build/tools/vmrt/vmrt vmm=$build/vmm/vmrt-vmm
kernel=$build/guest-kernel/vmlinux initrd=$build/tests/rig/test-initramfs.cpio
for f in "$pod_soak" "$soak_cause" "$vmrt" "$vmm" "$kernel" "$initrd" "$build/vmrt-dev.toml" \
  "$build/shim/containerd-shim-vmrt-v1" "$build/rootfs-image/initramfs.cpio.gz"; do
  [ -e "$f" ] || { echo "soak: $f is missing: build first (targets pod_soak soak_cause vmrt vmrt-vmm containerd-shim-vmrt-v1 test_initramfs rootfs-image guest_kernel)" >&2; exit 1; }
done
[ -n "$logdir" ] || logdir=$build/soak-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$logdir/failures" && logdir=$(cd "$logdir" && pwd -P) || exit 1
results=$logdir/results.tsv phase_file=$logdir/phase
touch "$results"
[ -z "$hypervisor" ] || printf '%s\n' "$hypervisor" >"$logdir/hypervisor"

# record PHASE ok|fail MS CAUSE [EVIDENCE_FILE]: one attempt, a line of results.tsv.
record() {
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$results"
  if [ "$2" = ok ]; then echo "$1 ok $3 ms"; else echo "$1 FAILED: $4"; fi
  rig_mark=$(rig_records_count)
}

# Inside tools/testvm, L1 records each guest shutdown and failed VM entry,
# the rig's own faults among them (tools/rig/world_switch_watch.py): those
# since the last attempt ended are the evidence of the attempt in flight.
rig_records=/run/testvm/world-switch.log
rig_records_count() { cat "$rig_records" 2>/dev/null | wc -l; }
rig_mark=$(rig_records_count)

# One table per phase: attempts, successes, failures by cause, and the
# median and 95th percentile of the successful attempts' times.
summary() {
  python3 - "$results" "$logdir" <<'PY'
import sys, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
order = ["cri-setup", "cri-sequential", "cri-concurrent", "vmrt-run", "vmrt-vmm", "qemu-microvm", "cleanup"]
timed = {"cri-sequential": "RunPodSandbox sent -> StartContainer answered",
         "cri-concurrent": "RunPodSandbox sent -> StartContainer answered",
         "vmrt-run": "the whole vmrt run (create, boot, echo ok, delete)",
         "vmrt-vmm": "the whole VM (boot, the load, reboot)",
         "qemu-microvm": "the whole VM (boot, the load, reboot)"}
phases = [p for p in order if any(r[0] == p for r in rows)]
phases += sorted({r[0] for r in rows} - set(order))
def pct(v, p):
    return v[min(len(v) - 1, max(0, -(-len(v) * p // 100) - 1))] if v else None
failed = 0
print(f"{'PHASE':<15} {'ATTEMPTS':>8} {'OK':>6} {'FAILED':>6} {'MEDIAN_MS':>10} {'P95_MS':>10}")
for p in phases:
    mine = [r for r in rows if r[0] == p]
    ok = sorted(float(r[2]) for r in mine if r[1] == "ok")
    bad = [r for r in mine if r[1] != "ok"]
    failed += len(bad)
    fmt = lambda x: "-" if x is None else f"{x:.0f}"
    print(f"{p:<15} {len(mine):>8} {len(ok):>6} {len(bad):>6} {fmt(pct(ok, 50)):>10} {fmt(pct(ok, 95)):>10}")
    for cause, n in collections.Counter(r[3] for r in bad).most_common():
        print(f"{'':<15} {n:>8} x {cause}")
    if p in timed and ok:
        print(f"{'':<15} (times: {timed[p]})")
import os
deaths = sum(1 for r in rows if r[1] != "ok" and r[3].startswith("L1 VM"))
try:
    hours = int(open(os.path.join(sys.argv[2], "seconds")).read()) / 3600
    print(f"L1 deaths: {deaths} in {hours:.2f} h of soak ({deaths / hours:.2f} per hour)")
except (OSError, ValueError, ZeroDivisionError):
    pass
print(f"{failed} failure(s); results and each failure's evidence in {sys.argv[2]}")
sys.exit(1 if failed else 0)
PY
}

. "$repo/tools/rig/host_kvm.sh"
. "$repo/tools/rig/qemu_microvm.sh"
if [ "${VMRT_SOAK_INSIDE:-}" != 1 ] && ! host_kvm_boots_guests; then
  echo "soak: $(host_kvm_describe); running inside tools/testvm" >&2
  # Each pod of a concurrent batch has its guest RAM.
  mem=$((2048 + concurrent * 384))
  [ "$mem" -ge 3072 ] || mem=3072
  limit=$(((pods + concurrent * batches) * 180 + runs * 180 + boots * 2 * 300 + 900))
  rm -f "$phase_file"
  started=$SECONDS
  # testvm gives a dying L1 one fresh VM; the soak inside goes on where it
  # was (the attempts in results.tsv), so a second death in one testvm run
  # starts another, up to three, within the one time limit.
  for run in 1 2 3; do
    rc=0
    "$repo/tools/testvm" --mem "$mem" --timeout "$((limit - (SECONDS - started)))" \
      --share "$logdir" --env VMRT_SOAK_INSIDE=1 -- "$0" "${args[@]}" --log-dir "$logdir" || rc=$?
    phase=$(cat "$phase_file" 2>/dev/null)
    [ "$phase" != 'done' ] || phase=cleanup
    case "$rc" in
      125)
        record "${phase:-cri-setup}" fail 0 "L1 VM died (tools/testvm exit 125)"
        # Counted here: the next run must not count it again.
        rm -f "$phase_file"
        [ $((limit - (SECONDS - started))) -gt 60 ] || break ;;
      124) record "${phase:-cri-setup}" fail 0 "timeout: the whole soak (tools/testvm exit 124)"; break ;;
      *) break ;;
    esac
  done
  echo $((SECONDS - started)) >"$logdir/seconds"
  summary
  exit
fi

# Inside tools/testvm, a phase file already there means L1 stopped
# answering and testvm runs the soak again: the phase it was in lost it.
if [ "${VMRT_SOAK_INSIDE:-}" = 1 ] && [ -s "$phase_file" ]; then
  record "$(cat "$phase_file")" fail 0 "L1 VM stopped answering (tools/testvm ran the soak again)"
fi
set_phase() { echo "$1" >"$phase_file"; echo "=== soak: $1"; }
# recorded PHASE: its attempts so far. A soak that L1's death restarted goes
# on from there: the attempt in flight was recorded as lost, not retried.
recorded() { grep -c "^$1"$'\t' "$results" || true; }

work=$(mktemp -d "${TMPDIR:-/tmp}/vmrt-soak.XXXXXX")
root=$work/root
# Others' VMMs and shims (on a host that runs pods) are not the soak's.
# (Files, not process substitution: L1 of tools/testvm has no /dev/fd.)
pgrep -x vmrt-vmm >"$work/vmms-before"
pgrep -f containerd-shim-vmrt-v1 >"$work/shims-before"
# new_pids BEFORE_FILE PGREP_ARGS...: the matching processes not there before.
new_pids() {
  local before=$1
  shift
  pgrep "$@" | grep -vxF -f "$before"
}
child='' current=''
# Whatever ends the soak (Ctrl-C too): the boot or container in flight goes.
cleanup() {
  [ -z "$child" ] || { kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; }
  [ -z "$current" ] || "$vmrt" --root "$root" delete --force "$current" >/dev/null 2>&1
  rm -rf --one-file-system "$work"
}
interrupted() {
  trap - INT TERM
  cleanup
  # pod_soak writes its own phases to the file.
  record "$(cat "$phase_file" 2>/dev/null || echo "$phase")" fail 0 "interrupted"
  [ "${VMRT_SOAK_INSIDE:-}" = 1 ] || summary
  exit 130
}
trap cleanup EXIT
trap interrupted INT TERM

# run_bg LIMIT OUT CMD...: CMD under timeout, in the background so that a
# signal reaches the trap at once; its status in $status.
run_bg() {
  local limit=$1 out=$2
  shift 2
  # `vmrt run` passes SIGTERM on to its container, as runc run does; when
  # the guest hangs, nothing takes it: KILL follows 20 s later.
  timeout --kill-after=20 "$limit" "$@" >"$out" 2>&1 &
  child=$!
  status=0
  wait "$child" || status=$?
  child=
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# failed PHASE N STATUS CALL EVIDENCE... -- CAUSE_ARGS...: classify (unless
# $known_cause says it) and keep the evidence of one failed attempt.
known_cause=
failed() {
  local phase=$1 status=$3 call=$4 file=$logdir/failures/$1-$2.txt
  shift 4
  local files=() cause
  while [ "$1" != -- ]; do files+=("$1"); shift; done
  shift
  local timed=()
  [ "$status" != 124 ] && [ "$status" != 137 ] || timed=(--timed-out)
  # L1's record of a VM it lost comes through its trace buffer a moment
  # after the VMM has ended.
  [ ! -e "$rig_records" ] || sleep 1
  tail -n +"$((rig_mark + 1))" "$rig_records" >"$work/rig-records" 2>/dev/null || true
  [ ! -s "$work/rig-records" ] || files+=("$work/rig-records")
  cause=${known_cause:-$("$soak_cause" --call "$call" --status "$status" "${timed[@]}" "$@" "${files[@]}")}
  known_cause=
  { echo "cause: $cause"; echo "exit status: $status"
    for f in "${files[@]}"; do echo "--- $(basename "$f") (last 300 lines)"; tail -n 300 "$f"; done
    # The host kernel's view: an OOM kill, a KVM warning, a stall.
    echo "--- kernel log (last 60 lines)"
    dmesg 2>/dev/null | tail -n 60
  } >"$file"
  record "$phase" fail 0 "$cause" "$file"
}

# Phases 1 and 2: pods through CRI. A lost concurrent batch was recorded
# once: it counts as one of the batches done.
phase='cri-sequential'
set_phase "$phase"
seq_left=$((pods - $(recorded cri-sequential)))
[ "$seq_left" -ge 0 ] || seq_left=0
batches_left=$((batches - ($(recorded cri-concurrent) + concurrent - 1) / concurrent))
[ "$batches_left" -ge 0 ] || batches_left=0
if [ "$seq_left" -gt 0 ] || [ "$batches_left" -gt 0 ]; then
  pod_soak_status=0
  "$pod_soak" --pods "$seq_left" --concurrent "$concurrent" --batches "$batches_left" \
    ${hypervisor:+--hypervisor "$hypervisor"} \
    --results "$results" --evidence "$logdir/failures" --phase-file "$phase_file" &
  child=$!
  wait "$child" || pod_soak_status=$?
  child=
  case "$pod_soak_status" in
    0 | 1 | 130) ;;  # failures are in the results already
    *) record cri-setup fail 0 "pod_soak exited with status $pod_soak_status" ;;
  esac
fi

# The runtime configuration of the `vmrt run`s: the build's (its last table
# is [hypervisor]), with --hypervisor's lines after it.
config=$build/vmrt-dev.toml
if [ -n "$hypervisor" ]; then
  config=$work/vmrt.toml
  { cat "$build/vmrt-dev.toml"; printf '%s\n' "$hypervisor"; } >"$config"
fi

# Phase 3: vmrt run.
phase='vmrt-run'
set_phase "$phase"
bundle=$work/bundle
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in echo sh true date; do ln -s busybox "$bundle/rootfs/bin/$applet"; done
(cd "$bundle" && "$vmrt" spec) || exit 1
python3 - "$bundle/config.json" "$run_load" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["process"]["terminal"] = False
s["process"]["args"] = ["/bin/echo", "ok"]
if sys.argv[2] == "forkload":
    loop = "while [ $(date +%s) -lt $end ]; do /bin/true; done"
    s["process"]["args"] = ["/bin/sh", "-c",
        f"end=$(($(date +%s) + 30)); ({loop}) & {loop}; wait; echo ok"]
json.dump(s, open(sys.argv[1], "w"), indent=1)
PY
for i in $(seq $(($(recorded vmrt-run) + 1)) "$runs"); do
  current=soak-$i
  # The sandbox removes its logs with the VM: follow them as they grow.
  tail -q -s 0.2 -F "$root/$current/vm/console.log" "$root/$current/vmm.log" >"$work/console" 2>/dev/null &
  follower=$!
  t0=$(now_ms)
  run_bg 180 "$work/out" "$vmrt" --config "$config" --root "$root" run -b "$bundle" "$current"
  ms=$(($(now_ms) - t0))
  sleep 0.5
  kill "$follower" 2>/dev/null
  wait "$follower" 2>/dev/null
  if [ "$status" = 0 ] && grep -qx ok "$work/out"; then
    record vmrt-run ok "$ms" ""
  else
    "$vmrt" --root "$root" delete --force "$current" >/dev/null 2>&1
    # It ran, but did not say ok: nothing else to classify.
    [ "$status" != 0 ] || known_cause="vmrt run exited 0 without printing ok"
    failed vmrt-run "$i" "$status" "vmrt run" "$work/out" "$work/console" -- --error "$work/out"
  fi
  current=
done

# Phase 4: vmrt-vmm and QEMU microvm, the same guest, alternating.
# The test init's action, and the line it ends with.
cmdline="console=ttyS0 reboot=k panic=-1 VMRT_TEST_ACTION=$boot_load"
case "$boot_load" in
  memload) cmdline+=" VMRT_TEST_MIB=256 VMRT_TEST_ROUNDS=4" done_line=VMRT_MEMLOAD_DONE ;;
  forkload) cmdline+=" VMRT_TEST_SECONDS=30" done_line=VMRT_FORKLOAD_DONE ;;
  shload) cmdline+=" VMRT_TEST_SECONDS=30" done_line=VMRT_SHLOAD_DONE ;;
esac
boot_ok() { [ "$status" = 0 ] && grep -q "$done_line.* failed=0" "$@"; }
boot_vmrt_vmm() {
  phase='vmrt-vmm'
  set_phase "$phase"
  : >"$work/console"
  t0=$(now_ms)
  run_bg 300 "$work/out" "$vmm" --kernel "$kernel" --initrd "$initrd" --mem 512 --cpus "$vcpus" \
    --console "$work/console" --cmdline "$cmdline"
  ms=$(($(now_ms) - t0))
  if boot_ok "$work/console"; then
    record vmrt-vmm ok "$ms" ""
  else
    failed vmrt-vmm "$1" "$status" vmrt-vmm "$work/out" "$work/console" -- \
      --error "$work/out" --expect VMRT_GUEST_READY --expect "$done_line"
  fi
}
boot_qemu_microvm() {
  phase='qemu-microvm'
  set_phase "$phase"
  t0=$(now_ms)
  qemu_microvm_argv 512 "$vcpus" stdio "$kernel" "$initrd" "$cmdline"
  run_bg 300 "$work/out" "${qemu_argv[@]}"
  ms=$(($(now_ms) - t0))
  if boot_ok "$work/out"; then
    record qemu-microvm ok "$ms" ""
  else
    failed qemu-microvm "$1" "$status" qemu-microvm "$work/out" -- \
      --expect VMRT_GUEST_READY --expect "$done_line"
  fi
}
for i in $(seq "$boots"); do
  [ "$(recorded vmrt-vmm)" -ge "$i" ] || boot_vmrt_vmm "$i"
  [ "$(recorded qemu-microvm)" -ge "$i" ] || boot_qemu_microvm "$i"
done

# Nothing may be left: VMMs started since the soak began, vmrt shims, the
# `vmrt run` sandboxes (pod_soak has checked its containerd's already).
phase=cleanup
set_phase "$phase"
sleep 2
for pid in $(new_pids "$work/vmms-before" -x vmrt-vmm); do
  ps -o pid=,args= -p "$pid" >"$logdir/failures/cleanup-vmm-$pid.txt"
  record cleanup fail 0 "left behind: vmrt-vmm process" "$logdir/failures/cleanup-vmm-$pid.txt"
done
for pid in $(new_pids "$work/shims-before" -f containerd-shim-vmrt-v1); do
  ps -o pid=,args= -p "$pid" >"$logdir/failures/cleanup-shim-$pid.txt"
  record cleanup fail 0 "left behind: shim" "$logdir/failures/cleanup-shim-$pid.txt"
done
for d in "$root"/*; do
  [ -e "$d" ] || continue
  "$vmrt" --root "$root" delete --force "$(basename "$d")" >/dev/null 2>&1
  record cleanup fail 0 "left behind: sandbox directory" ""
done
echo 'done' >"$phase_file"
if [ "${VMRT_SOAK_INSIDE:-}" = 1 ]; then
  ! grep -q $'\tfail\t' "$results"
else
  summary
fi
