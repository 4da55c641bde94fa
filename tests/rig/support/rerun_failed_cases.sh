#!/usr/bin/env bash
# Runs a rig GoogleTest binary; when some of its tests fail, runs those tests
# (and only those) once more and passes when they all pass then. The rig's
# guests run under nested virtualization on an emulated CPU, which now and
# then loses a guest early in its boot (docs/testing.md, "Open"); one
# such boot in a binary of thirty VMs should not cost a rerun of all thirty.
# A test that fails twice fails. Both attempts are printed, with the names.
#
#   rerun_failed_cases.sh BINARY [GTEST ARGS...]
set -uo pipefail
bin=$1
shift
out=$(mktemp -d "${TMPDIR:-/tmp}/rig-results.XXXXXX")
trap 'rm -rf "$out"' EXIT

# What the rig's L1 records (tools/rig/world_switch_watch.py), to tell
# which failures of the first attempt the rig's emulated CPU caused.
records=${VMRT_RIG_RECORDS:-/run/testvm/world-switch.log}
mark=$(cat "$records" 2>/dev/null | wc -l)
"$bin" --gtest_output="json:$out/first.json" "$@"
rc=$?
[ "$rc" = 0 ] && exit 0
# No results: the binary died or its watchdog aborted it; that is a failure
# as it is (ctest may rerun the whole binary).
[ -s "$out/first.json" ] || exit "$rc"
failed=$(python3 - "$out/first.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
names = [f"{suite['name']}.{case['name']}"
         for suite in report.get("testsuites", [])
         for case in suite.get("testsuite", [])
         if case.get("failures")]
print(":".join(names))
PY
)
[ -n "$failed" ] || exit "$rc"
echo "rerun_failed_cases: failed on the first attempt, running once more: ${failed//:/ }" >&2
[ ! -e "$records" ] || sleep 1  # a record comes a moment after its VM ended
new_records=$(tail -n +"$((mark + 1))" "$records" 2>/dev/null)
lost=$(grep -c '^testvm-rig-fault:' <<<"$new_records")
other=$(grep -cE '^testvm-(guest-shutdown|emulation-failure):' <<<"$new_records")
echo "rerun_failed_cases: guests lost to the rig's emulated CPU during the first attempt: ${lost:-0}" \
  "(other guest shutdowns or emulation failures recorded: ${other:-0})" >&2
# The failed tests' filter last: it overrides one among the arguments.
"$bin" "$@" --gtest_filter="$failed"
rc=$?
[ "$rc" = 0 ] && echo "rerun_failed_cases: passed on the second attempt: ${failed//:/ }" >&2
exit "$rc"
