# Sourced by the scripts that decide where KVM work runs: on this host, or
# inside tools/testvm (whose L1 has a real nested KVM). A host is one of
#   none      no /dev/kvm at all (the KVM modules may be there, no device)
#   closed    /dev/kvm exists but cannot be opened (permissions, a stale node)
#   pvm       the paravirtual kvm_pvm: tiny payloads run, a guest kernel does not
#   hardware  kvm_intel/kvm_amd on a CPU with VMX/SVM: guests boot
#   other     a KVM that is none of these (no VMX/SVM flag shown)

host_kvm_kind() {
  if [ ! -e /dev/kvm ]; then
    echo none
  elif ! { : <>/dev/kvm; } 2>/dev/null; then
    echo closed
  elif [ -e /sys/module/kvm_pvm ]; then
    echo pvm
  elif { [ -e /sys/module/kvm_intel ] || [ -e /sys/module/kvm_amd ]; } &&
    grep -qE '\b(vmx|svm)\b' /proc/cpuinfo; then
    echo hardware
  else
    echo other
  fi
}

# One line for a user: what this host's KVM is and what follows from it.
host_kvm_describe() {
  case "$(host_kvm_kind)" in
    none) echo "this host has no /dev/kvm" ;;
    closed) echo "this host's /dev/kvm cannot be opened" ;;
    pvm) echo "this host's KVM is the paravirtual kvm_pvm, which runs tiny payloads but cannot boot a guest kernel" ;;
    hardware) echo "this host's KVM is hardware KVM" ;;
    other) echo "this host's KVM is neither hardware KVM (no VMX/SVM) nor kvm_pvm" ;;
  esac
}

# host_kvm_boots_guests: true when /dev/kvm boots a real guest kernel.
host_kvm_boots_guests() {
  [ "$(host_kvm_kind)" = hardware ]
}

# host_kvm_runs_payloads BUILD_DIR: true when this host's /dev/kvm runs the
# kvm tests' tiny payloads, proved by running one of them (a real-mode
# payload that prints to the serial port and resets) rather than inferred.
host_kvm_runs_payloads() {
  local probe=$1/tests/kvm/kvm_machine
  case "$(host_kvm_kind)" in none | closed) return 1 ;; esac
  [ -x "$probe" ] || return 1
  timeout 120 "$probe" --gtest_filter=Machine.PrintsToSerialAndEndsOnI8042Reset >/dev/null 2>&1
}

# run_here_if_guests_boot INSIDE_VAR [TESTVM OPTIONS...] -- SCRIPT [ARGS...]:
# returns when guests boot here (hardware KVM) or when INSIDE_VAR=1 says the
# caller already runs inside tools/testvm; otherwise says why and re-runs
# SCRIPT inside tools/testvm with INSIDE_VAR=1, exiting with its status.
run_here_if_guests_boot() {
  local inside=$1
  shift
  [ "${!inside:-}" = 1 ] && return 0
  host_kvm_boots_guests && return 0
  echo "$(basename "$0"): $(host_kvm_describe); running inside tools/testvm" >&2
  exec "$(dirname "${BASH_SOURCE[0]}")/../testvm" --env "$inside=1" "$@"
}
