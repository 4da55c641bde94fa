#!/usr/bin/env bash
# Runs the OCI runtime-tools validation suite against a runtime and prints a
# TAP summary: one line per test binary, then the totals.
#
#   tools/oci-validation/run.sh [--timeout SECONDS] [--log-dir DIR] RUNTIME [TEST-GLOB...]
#
# RUNTIME is a runc-compatible binary (a name on PATH or a path). TEST-GLOBs
# pick test binaries by name (e.g. 'linux_cgroups_*'); default all. Each binary
# runs with RUNTIME set, in a private working directory holding runtimetest and
# the rootfs tarball, with TMPDIR (its bundles) inside it, under a timeout
# (default 300 s). The TAP output and stderr of every failing binary are kept
# in the log directory (default a new ${TMPDIR:-/tmp}/oci-validation-logs.*),
# with summary.tap. Containers the suite left behind (bundle in the working
# directory) are removed with RUNTIME delete --force. The run happens in a
# private mount namespace, so container mounts that propagate back (rootfs
# propagation tests) never reach the host's. Exits 0 when nothing failed, 1
# otherwise. Needs root; builds the suite first (build.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${OCI_VALIDATION_PRIVATE_MOUNTS:-}" ] && [ "$(id -u)" = 0 ]; then
  OCI_VALIDATION_PRIVATE_MOUNTS=1 exec unshare --mount --propagation private -- "$0" "$@"
fi
timeout=300
log_dir=""
usage() { sed -n '5p' "$0" | sed 's/^# \{0,1\}/usage: /' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) timeout=$2; shift 2 ;;
    --log-dir) log_dir=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) echo "run.sh: unknown option '$1'" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: bad --timeout '$timeout'" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (the suite creates containers)" >&2; exit 1; }
runtime=$(command -v "$1") || { echo "run.sh: runtime '$1' not found" >&2; exit 1; }
runtime=$(realpath -e "$runtime")
shift
globs=("$@")
[ ${#globs[@]} -gt 0 ] || globs=('*')

cache=$("$here/build.sh")
tests=()
for bin in "$cache"/validation/*; do
  name=$(basename "$bin")
  for g in "${globs[@]}"; do
    # shellcheck disable=SC2053  # the glob is meant to match
    if [[ "$name" == $g ]]; then tests+=("$name"); break; fi
  done
done
[ ${#tests[@]} -gt 0 ] || { echo "run.sh: no test matches ${globs[*]}" >&2; exit 2; }

if [ -z "$log_dir" ]; then
  log_dir=$(mktemp -d "${TMPDIR:-/tmp}/oci-validation-logs.XXXXXX")
else
  mkdir -p "$log_dir"
  log_dir=$(realpath "$log_dir")
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/oci-validation.XXXXXX")
test_pid=""

# Containers whose bundle lies in the working directory: the suite's leftovers.
leftovers() {
  "$runtime" list 2>/dev/null | awk -v w="$work" 'NR > 1 && index($4, w) == 1 { print $1 }' || true
}
remove_leftovers() {
  local id n=0
  for id in $(leftovers); do
    "$runtime" delete --force "$id" >/dev/null 2>&1 || true
    n=$((n + 1))
  done
  echo "$n"
}
# Removes DIR's contents: first any mounts below it, then files on its own
# file system only.
scrub() {
  awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  find "$1" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system {} + 2>/dev/null || true
}
cleanup() {
  local rc=$?
  if [ -n "$test_pid" ]; then
    kill -TERM "$test_pid" 2>/dev/null || true
    wait "$test_pid" 2>/dev/null || true
  fi
  remove_leftovers >/dev/null
  scrub "$work"
  rmdir "$work" 2>/dev/null || echo "run.sh: could not remove $work" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cp "$cache/runtimetest" "$cache"/rootfs-*.tar.gz "$work/"
mkdir "$work/tmp"

summary=$log_dir/summary.tap
echo "# oci-validation: RUNTIME=$runtime, ${#tests[@]} test binaries, suite $cache" | tee "$summary"
total_pass=0 total_fail=0 total_skip=0 bad=0 i=0
started=$EPOCHREALTIME
for name in "${tests[@]}"; do
  i=$((i + 1))
  tap=$log_dir/$name.tap
  err=$log_dir/$name.stderr
  t0=$EPOCHREALTIME
  (cd "$work" && exec env TMPDIR="$work/tmp" RUNTIME="$runtime" \
    timeout -k 10 "$timeout" "$cache/validation/$name") >"$tap" 2>"$err" </dev/null &
  test_pid=$!
  rc=0
  wait "$test_pid" || rc=$?
  test_pid=""
  secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')

  # Results at column 0 only: runtimetest's TAP inside YAML blocks is indented.
  read -r pass fail skip plan <<<"$(awk '
    /^ok [0-9]/ { if (tolower($0) ~ /# *(skip|todo)/) s++; else p++ }
    /^not ok [0-9]/ { if (tolower($0) ~ /# *(skip|todo)/) s++; else f++ }
    /^1\.\.[0-9]+/ { split($1, a, "\\.\\."); n = a[2] + 0; if (n == 0 && tolower($0) ~ /skip/) s++ }
    END { print p + 0, f + 0, s + 0, (n == "" ? -1 : n) }' "$tap")"
  notes=()
  missing=$((plan - pass - fail - skip))
  if [ "$plan" -ge 0 ] && [ "$missing" -gt 0 ]; then
    fail=$((fail + missing)); notes+=("$missing planned results missing")
  fi
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    fail=$((fail + 1)); notes+=("timed out after ${timeout}s")
  elif [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
    fail=$((fail + 1)); notes+=("exit status $rc")
  elif [ $((pass + fail + skip)) = 0 ]; then
    # Some tests report no results: they pass by exit status 0 and fail with
    # an "error" in a YAML block.
    if grep -q '^  *"error":' "$tap"; then
      fail=1; notes+=("error reported without a result")
    else
      pass=1
    fi
  fi
  left=$(remove_leftovers)
  if [ "$left" -gt 0 ]; then
    fail=$((fail + 1)); notes+=("$left leftover containers removed")
  fi
  # Bundles a test failed to remove.
  scrub "$work/tmp"

  status=ok
  if [ "$fail" -gt 0 ]; then
    status="not ok"; bad=$((bad + 1))
  else
    rm -f "$tap" "$err"
  fi
  line="$status $i - $name: pass $pass fail $fail skip $skip (${secs}s)"
  [ ${#notes[@]} -eq 0 ] || line+=" # $(IFS=';'; echo "${notes[*]}")"
  echo "$line" | tee -a "$summary"
  total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail)) total_skip=$((total_skip + skip))
done
secs=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
{
  echo "1..${#tests[@]}"
  echo "# binaries: $(( ${#tests[@]} - bad )) ok, $bad not ok; ${secs}s"
  echo "# pass $total_pass fail $total_fail skip $total_skip"
  echo "# logs: $log_dir"
} | tee -a "$summary"
[ "$total_fail" = 0 ]
