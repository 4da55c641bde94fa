#!/usr/bin/env bash
# Checks tools/testvm itself: nested /dev/kvm works, exit statuses pass through,
# a command outliving --timeout is killed and reported with L1's state,
# an L1 whose kernel panics is replaced by a fresh one (once), shares are
# writable, a guest's triple fault in L1 is recorded as the guest's (not
# the rig's), and nothing (temporary directory, QEMU process) is left behind.
#
#   testvm_test.sh KVM_MACHINE_TEST_BINARY
set -uo pipefail
testvm=$(cd "$(dirname "$0")/../../tools" && pwd)/testvm
machine_test=$(realpath -e "$1") || exit 2
failures=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; failures=$((failures + 1)); fi; }
# This test's VMs keep their control directories in a private TMPDIR, so
# other rigs running on the machine at the same time do not count.
export TMPDIR=$(mktemp -d)
trap 'rm -rf "$TMPDIR"' EXIT

# The L1 console adds CR before LF (a known rig defect); compare the text.
out=$("$testvm" -- sh -c 'test -c /dev/kvm && echo ok' | tr -d '\r')
check "/dev/kvm is a character device in L1 (got '$out')" '[ "$out" = ok ]'

"$testvm" -- false
check "false exits 1" '[ $? = 1 ]'

"$testvm" -- sh -c 'exit 42'
check "exit status 42 passes through" '[ $? = 42 ]'

share=$(mktemp -d)
"$testvm" --share "$share" -- sh -c "echo written >$share/result && cat /proc/cpuinfo | grep -qw svm"
rc=$?
check "share is writable from L1 and L1 has SVM (rc $rc)" '[ $rc = 0 ] && [ "$(cat "$share/result" 2>/dev/null)" = written ]'
rm -rf "$share"

err=$("$testvm" --timeout 75 -- sleep 600 2>&1 >/dev/null)
rc=$?
check "a command outliving --timeout is killed with 124 (rc $rc)" '[ $rc = 124 ]'
check "the timeout is reported (got '$err')" '[[ "$err" == *"timed out after 75s"* ]]'
check "with L1's heartbeat and process list" \
  '[[ "$err" == *"testvm-heartbeat: uptime"* && "$err" == *"L1'"'"'s processes"*"sleep 600"* ]]'

# L1's kernel panics under the first attempt (sysrq crash); the second,
# in a fresh VM, finds the marker and passes. Twice is a failure.
share=$(mktemp -d)
err=$("$testvm" --share "$share" -- sh -c \
  "test -e $share/crashed && exit 0; touch $share/crashed; sync; echo c >/proc/sysrq-trigger; sleep 60" 2>&1 >/dev/null)
rc=$?
check "an L1 kernel panic reruns the command in a fresh VM (rc $rc)" '[ $rc = 0 ]'
check "and says so" '[[ "$err" == *"L1'"'"'s kernel panicked"* && "$err" == *"running the command again in a fresh VM"* ]]'
"$testvm" -- sh -c 'echo c >/proc/sysrq-trigger; sleep 60' 2>/dev/null
check "an L1 that panics twice gives up with 125" '[ $? = 125 ]'
rm -rf "$share"

# A payload that triple faults in L1's KVM: L1 records the guest's shutdown
# with its own pid and the page fault it could not deliver, and does not
# call it a fault of the rig (tools/rig/world_switch_watch.py).
err=$("$testvm" -- "$machine_test" --gtest_filter=Machine.TripleFaultEndsTheVmWithAnError 2>&1 >/dev/null)
rc=$?
check "a guest's triple fault in L1 (rc $rc)" '[ $rc = 0 ]'
# (The pid is "?" when the trace lost track of a thread that ended at once.)
check "is recorded as the guest's shutdown (got: $(grep testvm- <<<"$err"))" \
  '[[ "$err" =~ testvm-guest-shutdown:\ pid\ ([0-9]+|\?)\ .*guest\ shutdown\ at\ rip\ 0x[0-9a-f]+\;\ delivering\ 0x8[0-9a-f]+ ]]'
check "and not as the rig's" '[[ "$err" != *testvm-rig-fault* ]]'

"$testvm" --bogus -- true 2>/dev/null
check "an unknown option is refused with 2" '[ $? = 2 ]'

left=$(ls -A "$TMPDIR")
check "no temporary directory left behind ($left)" '[ -z "$left" ]'
check "no QEMU left running" '! pgrep -f "path=$TMPDIR/testvm" >/dev/null'

[ "$failures" = 0 ]
