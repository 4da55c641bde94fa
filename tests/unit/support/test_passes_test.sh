#!/usr/bin/env bash
# tools/test_passes.sh on made-up ctest projects.
#
#   test_passes_test.sh TEST_PASSES summary
#       tests of every label: which pass runs what, the rig's rerun of a
#       failed test, the summary's line per label, the exit status, and a
#       selection that leaves labels out (no root, no KVM);
#   test_passes_test.sh TEST_PASSES kvm-place
#       on this host made to have no /dev/kvm (tools/rig/without_kvm.sh), a
#       kvm test that opens /dev/kvm fails when forced to run here and passes
#       when the passes choose tools/testvm by themselves (root, boots L1).
set -uo pipefail
passes=$1 mode=$2
repo=$(cd "$(dirname "$passes")/.." && pwd)
failures=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; failures=$((failures + 1)); fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fixture: a ctest project in $work/build with the add_test lines on stdin.
fixture() {
  mkdir -p "$work/src"
  { printf 'cmake_minimum_required(VERSION 3.25)\nproject(fixture NONE)\nenable_testing()\n'; cat; } \
    >"$work/src/CMakeLists.txt"
  cmake -S "$work/src" -B "$work/build" >/dev/null || { echo "FAIL - fixture configures"; exit 1; }
}
# run_passes [ENV=VALUE...] -- [selection...]: sets out, rc and summary.
run_passes() {
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  out=$(env "${envs[@]}" "${wrap[@]}" "$passes" "$work/build" "$@" 2>&1)
  rc=$?
  summary=$(sed -n '/^== summary$/,$p' <<<"$out")
  echo "$summary"
}

if [ "$mode" = kvm-place ]; then
  wrap=("$repo/tools/rig/without_kvm.sh")
  fixture <<'CM'
# test -c first: a redirection alone would create a plain file named /dev/kvm.
add_test(NAME kvm.opens_dev_kvm COMMAND sh -c "test -c /dev/kvm && : <>/dev/kvm")
set_tests_properties(kvm.opens_dev_kvm PROPERTIES LABELS kvm)
CM
  run_passes VMRT_KVM_TESTS=host --
  check "forced onto a host without /dev/kvm, the kvm test fails (it does not skip)" \
    '[ $rc -ne 0 ] && grep -qx "kvm: 0 passed, 1 failed; ran on this host (this host has no /dev/kvm)" <<<"$summary"'
  run_passes --
  check "left to choose, the passes run it inside tools/testvm, where it passes" \
    '[ $rc -eq 0 ] && grep -qx "kvm: 1 passed, 0 failed; ran inside tools/testvm (this host has no /dev/kvm)" <<<"$summary"'
  [ $rc -eq 0 ] || echo "$out" | tail -40
  exit $((failures > 0))
fi

wrap=()
fixture <<CM
add_test(NAME unit.ok COMMAND true)
add_test(NAME unit.broken COMMAND false)
# Skipped, as GoogleTest says it: counted and named, neither passed nor failed.
add_test(NAME unit.skipped COMMAND echo "[  SKIPPED ] no such thing here")
set_tests_properties(unit.skipped PROPERTIES SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
add_test(NAME root.ok COMMAND true)
add_test(NAME kvm.ok COMMAND true)
# Fails on its first run only: the rig pass runs it once more.
add_test(NAME rig.flaky COMMAND sh -c "[ -e $work/flaky.ran ] || { touch $work/flaky.ran; exit 1; }")
# Its cases were rerun inside L1 (tests/rig/support/rerun_failed_cases.sh says
# so), at the end of more output than ctest keeps of a passed test by default.
add_test(NAME rig.cases COMMAND sh -c "seq 1 2000; echo \"rerun_failed_cases: guests lost to the rig's emulated CPU during the first attempt: 1 (other guest shutdowns or emulation failures recorded: 2)\" >&2; echo 'rerun_failed_cases: passed on the second attempt: Suite.Case' >&2")
add_test(NAME rig.broken COMMAND false)
set_tests_properties(unit.ok unit.broken unit.skipped PROPERTIES LABELS unit)
set_tests_properties(root.ok PROPERTIES LABELS root)
set_tests_properties(kvm.ok PROPERTIES LABELS kvm)
set_tests_properties(rig.flaky rig.cases rig.broken PROPERTIES LABELS rig)
CM

run_passes VMRT_KVM_TESTS=host --
check "a failed test fails the run" '[ $rc -ne 0 ]'
check "unit line" 'grep -qx "unit: 1 passed, 1 failed, 1 skipped" <<<"$summary"'
check "the skipped test is named" 'grep -qx "  skipped unit.skipped" <<<"$summary"'
check "the failed test is named" 'grep -qx "  failed unit.broken" <<<"$summary"'
check "root line" 'grep -qx "root: 1 passed, 0 failed" <<<"$summary"'
check "kvm line says where they ran" 'grep -qx "kvm: 1 passed, 0 failed; ran on this host (.*)" <<<"$summary"'
check "rig line counts the reruns" 'grep -qx "rig: 2 passed, 1 failed, 3 rerun" <<<"$summary"'
check "a test rerun as a whole is named" \
  'grep -qx "  rerun rig.flaky: failed, then ran once more and passed" <<<"$summary"'
check "a test that failed twice is named as such" \
  'grep -qx "  rerun rig.broken: failed, then ran once more" <<<"$summary"'
check "cases rerun inside L1 are named" \
  'grep -qx "  rerun rig.cases: cases that passed on their second attempt in L1: Suite.Case; 1 guest(s) lost to the rig.s emulated CPU during the first attempt, 2 other guest shutdown(s) or emulation failure(s) recorded" <<<"$summary"'

rm -f "$work/flaky.ran"
run_passes VMRT_KVM_TESTS=host -- -L '^(unit|rig)$' -E 'broken|skipped'
check "a selection without failures passes" '[ $rc -eq 0 ]'
check "labels left out say so" 'grep -qx "kvm: none selected" <<<"$summary" && grep -qx "root: none selected" <<<"$summary"'
check "the selection is kept" 'grep -qx "unit: 1 passed, 0 failed" <<<"$summary"'

run_passes VMRT_KVM_TESTS=elsewhere -- -L kvm
check "an unknown place for the kvm tests is refused" '[ $rc -ne 0 ] && [[ "$out" == *"VMRT_KVM_TESTS must be"* ]]'
exit $((failures > 0))
