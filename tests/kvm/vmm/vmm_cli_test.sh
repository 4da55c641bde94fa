#!/usr/bin/env bash
# vmrt-vmm on bad input: every case exits non-zero with a message naming the
# problem, and leaves no control socket, console file or process behind.
#
#   vmm_cli_test.sh VMRT_VMM [VMLINUX]
set -uo pipefail
vmm=$1 vmlinux=${2:-}
failures=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; failures=$((failures + 1)); fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 100000 /dev/urandom >"$work/junk"
printf '\x7fELF' >"$work/truncated-elf"
: >"$work/empty"

# expect NAME MESSAGE ARGS...: vmrt-vmm ARGS exits non-zero and says MESSAGE.
expect() {
  local name=$1 message=$2
  shift 2
  err=$(timeout 60 "$vmm" --control-socket "$work/ctl.sock" "$@" 2>&1 >/dev/null)
  rc=$?
  check "$name: exit $rc, says '$message'" '[ $rc -ne 0 ] && [ $rc -ne 124 ] && [[ "$err" == *"$message"* ]]'
  [[ "$err" == *"$message"* ]] || echo "    got: $err"
  check "$name: no control socket left" '[ ! -e "$work/ctl.sock" ]'
}

expect "no kernel" "no guest kernel"
expect "missing kernel" "$work/nope" --kernel "$work/nope"
expect "empty kernel" "is empty" --kernel "$work/empty"
expect "corrupt kernel" "neither an ELF vmlinux nor a bzImage" --kernel "$work/junk"
expect "truncated ELF" "shorter than its header" --kernel "$work/truncated-elf"
expect "missing initrd" "$work/nope.cpio" --kernel "$work/junk" --initrd "$work/nope.cpio"
head -c $((20 << 20)) /dev/zero >"$work/big.cpio"
expect "initrd larger than RAM" "does not fit in 16 MiB" --kernel "$work/junk" --initrd "$work/big.cpio" --mem 16
expect "zero memory" "too small" --kernel "$work/junk" --mem 0
expect "absurd memory" "more than this host" --kernel "$work/junk" --mem 100000000
expect "zero vCPUs" "at least one vCPU" --kernel "$work/junk" --cpus 0
expect "absurd vCPUs" "at most" --kernel "$work/junk" --cpus 5000
expect "fewer vCPUs than booted" "--max-cpus 1 is less than --cpus 2" --kernel "$work/junk" --cpus 2 --max-cpus 1
expect "absurd max vCPUs" "at most 254" --kernel "$work/junk" --max-cpus 255
expect "hotplug memory off memory blocks" "not a multiple of 128 MiB" --kernel "$work/junk" --hotplug-mib 100
expect "unknown flag" "--frobnicate" --frobnicate
expect "malformed config file" "malformed JSON" --config "$work/junk"
echo '{"kernel": 5}' >"$work/bad.json"
expect "config with a wrong type" '"kernel" has the wrong type' --config "$work/bad.json"
if [ -d /sys/module/kvm_pvm ] && [ -n "$vmlinux" ]; then
  expect "a real kernel on a PVM host" "is PVM" --kernel "$vmlinux"
fi

# Only this script's VMMs (they all name $work): other tests run theirs
# beside it.
check "no vmrt-vmm process is left" '! pgrep -f -- "$work/ctl.sock" >/dev/null'
exit $((failures > 0))
