#!/usr/bin/env bash
# Runs the ctest tests of a build tree in three passes and ends with one
# summary line per label (tools/test_report.py); exits non-zero when a
# selected test did not pass.
#
#   tools/test_passes.sh BUILD_DIR [ctest selection...]   e.g. -L kvm, -R '^rig\.'
#
#   host  unit and root tests, two at a time;
#   kvm   on this host's /dev/kvm when it runs the tests' payloads (a probe
#         payload decides), otherwise inside one tools/testvm L1 VM, whose KVM
#         is real; VMRT_KVM_TESTS=host or =testvm forces the place. They never
#         silently skip: with neither a usable KVM nor the rig they fail;
#   rig   one L1 VM at a time. A rig test binary's failed cases run once more
#         inside its L1 VM (tests/rig/support/rerun_failed_cases.sh), and a rig
#         test that still fails runs once more as a whole: their guests run
#         under nested virtualization on an emulated CPU, which now and then
#         loses a guest early in its boot (docs/testing.md, "Open"). A test
#         that fails twice fails; every rerun is named in the summary.
#
# The selection arguments choose tests only; each pass runs its own options.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '6p' "$0" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -e "$1")
shift
cd "$build"
. "$repo/tools/rig/host_kvm.sh"
report() { python3 "$repo/tools/test_report.py" "$@"; }

# Results live in the build tree: the kvm pass may run inside tools/testvm,
# which sees the build tree through a read-write share.
results=$build/Testing/passes
rm -rf "$results"
mkdir -p "$results"
ctest -N --show-only=json-v1 >"$results/all.json"
ctest -N --show-only=json-v1 "$@" >"$results/selected.json"
report plan "$results/all.json" "$results/selected.json" "$results"

# ctest keeps 1 KiB of a passed test's output in its results by default:
# a rig test's rerun note comes at the end of its output, and the summary
# reads it from there, so all of it is kept.
keep_output=(--test-output-size-passed 67108864 --test-output-size-failed 67108864)

run_pass() { # NAME [ctest options...]: the pass's tests, results in NAME.xml
  local name=$1
  shift
  ctest --output-on-failure "${keep_output[@]}" -I "$results/$name.ids" \
    --output-junit "$results/$name.xml" "$@" || true
}

if [ -f "$results/host.ids" ]; then
  echo "== unit and root tests on this host"
  run_pass host -j2
fi

if [ -f "$results/kvm.ids" ]; then
  place=${VMRT_KVM_TESTS:-auto}
  case "$place" in auto | host | testvm) ;; *) echo "test.sh: VMRT_KVM_TESTS must be host or testvm" >&2; exit 2 ;; esac
  if [ "$place" = auto ]; then
    place=testvm
    host_kvm_runs_payloads "$build" && place=host
  fi
  why="$(host_kvm_describe)"
  if [ "$place" = host ]; then
    echo "on this host ($why)" >"$results/kvm.where"
    echo "== kvm tests on this host's /dev/kvm ($why)"
    run_pass kvm -j2
  else
    echo "inside tools/testvm ($why)" >"$results/kvm.where"
    echo "== kvm tests inside tools/testvm ($why, or it does not run the tests' payloads)"
    "$repo/tools/testvm" --timeout 2400 --share "$build" -- \
      ctest --output-on-failure "${keep_output[@]}" -j2 -I "$results/kvm.ids" \
      --output-junit "$results/kvm.xml" \
      2>&1 | tee "$results/kvm.log" || true
  fi
fi

if [ -f "$results/rig.ids" ]; then
  echo "== rig tests, one tools/testvm L1 VM at a time"
  run_pass rig
  again=$(report failed "$results" rig)
  if [ -n "$again" ]; then
    echo "$again" >"$results/rig.rerun.ids"
    echo "== rig tests that failed, once more"
    ctest --output-on-failure "${keep_output[@]}" -I "$results/rig.rerun.ids" \
      --output-junit "$results/rig.rerun.xml" || true
  fi
fi

report summary "$results"
