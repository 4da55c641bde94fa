#!/usr/bin/env bash
# tests/rig/support/rerun_failed_cases.sh: a test that fails once passes on
# its rerun, which runs only the failed tests; one that fails twice fails.
#
#   rerun_failed_cases_test.sh RERUN_SCRIPT FIXTURE_BINARY
set -uo pipefail
rerun=$1 fixture=$2
failures=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; failures=$((failures + 1)); fi; }
export RERUN_FIXTURE_DIR=$(mktemp -d)
trap 'rm -rf "$RERUN_FIXTURE_DIR"' EXIT

# A rig fault recorded before the run is not the run's; one recorded while
# its first attempt ran is.
export VMRT_RIG_RECORDS=$RERUN_FIXTURE_DIR/world-switch.log RERUN_FIXTURE_RIG_FAULT=1
{ echo "testvm-rig-fault: an earlier one"; echo "testvm-guest-shutdown: an earlier one"; } >"$VMRT_RIG_RECORDS"
out=$(RERUN_FIXTURE_PASS=1 "$rerun" "$fixture" 2>&1)
rc=$?
check "a test failing once passes on its rerun (rc $rc)" '[ $rc = 0 ]'
check "only the failed test is rerun" \
  '[[ "$out" == *"running once more: Fixture.FailsOnlyTheFirstTime"$'"'"'\n'"'"'* && "$out" == *"Google Test filter = Fixture.FailsOnlyTheFirstTime"$'"'"'\n'"'"'* ]]'
check "the rerun is reported by name" '[[ "$out" == *"passed on the second attempt: Fixture.FailsOnlyTheFirstTime"* ]]'
check "the guests the rig lost in the first attempt are counted" \
  '[[ "$out" == *"lost to the rig'"'"'s emulated CPU during the first attempt: 1 (other guest shutdowns or emulation failures recorded: 0)"* ]]'

rm -f "$RERUN_FIXTURE_DIR/ran"
: >"$VMRT_RIG_RECORDS"
out=$(env -u RERUN_FIXTURE_RIG_FAULT "$rerun" "$fixture" 2>&1)
rc=$?
check "a test failing twice fails (rc $rc)" '[ $rc != 0 ]'
check "both failed tests were rerun" \
  '[[ "$out" == *"running once more: Fixture.FailsOnlyTheFirstTime Fixture.FailsUnlessTold"* ]]'
check "no second-attempt pass is claimed" '[[ "$out" != *"passed on the second attempt"* ]]'
check "a first attempt without rig faults says so" \
  '[[ "$out" == *"lost to the rig'"'"'s emulated CPU during the first attempt: 0"* ]]'

out=$("$rerun" "$fixture" --gtest_filter=Fixture.AlwaysPasses 2>&1)
rc=$?
check "a passing binary passes at once (rc $rc)" '[ $rc = 0 ] && [[ "$out" != *"once more"* ]]'
[ "$failures" = 0 ]
