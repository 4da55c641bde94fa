#!/bin/bash
# Runs every libFuzzer target for SECONDS each (default 600), JOBS at a time
# (default 1), each from a fresh copy of its seed corpus under
# build-fuzz/fuzz-runs/NAME/, and prints per target: executions, the final
# cov/ft of libFuzzer's last status line, the corpus it ended with, and its
# findings (crash-, leak-, timeout-, oom- files, kept in that directory).
# Exits 1 when any target found something. Builds the fuzz tree first
# (configured with clang and -DVMRT_FUZZ=ON when it does not exist). Names
# after JOBS run only those targets (a target added or changed since the
# last campaign), for instance fs_activate_fuzzer fuse_request_fuzzer.
#   tools/fuzz/run_all.sh [SECONDS] [JOBS] [TARGET...]
set -euo pipefail
seconds=${1:-600}
jobs=${2:-1}
shift $(($# < 2 ? $# : 2))
only=("$@")
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$repo/build-fuzz
runs=$build/fuzz-runs

if [[ ! -f $build/build.ninja ]]; then
  CC=clang CXX=clang++ cmake -S "$repo" -B "$build" -G Ninja -DVMRT_FUZZ=ON -DVMRT_GUEST_KERNEL=OFF
fi
mapfile -t names < <(ninja -C "$build" -t targets all |
  sed -n 's/^\([a-z0-9_]*_fuzzer\): .*/\1/p' | grep -v '^cmake_' | sort)
if ((${#only[@]})); then
  for want in "${only[@]}"; do
    printf '%s\n' "${names[@]}" | grep -qx "$want" || {
      echo "run_all.sh: no fuzz target named $want (there are: ${names[*]})" >&2
      exit 2
    }
  done
  names=("${only[@]}")
fi
ninja -C "$build" -j2 "${names[@]}"

# One target: a fresh work directory, the seeds copied in, a timed run.
run_one() {
  local bin=$1 seconds=$2 runs=$3 name
  name=$(basename "$bin")
  rm -rf "${runs:?}/$name" && mkdir -p "$runs/$name/corpus"
  local seeds
  seeds=$(cat "$bin.seeds" 2>/dev/null || true)
  [[ -n $seeds ]] && cp -r "$seeds"/. "$runs/$name/corpus/"
  (cd "$runs/$name" && "$bin" -max_total_time="$seconds" -max_len=8192 -timeout=25 \
    -print_final_stats=1 -artifact_prefix="$runs/$name/" corpus >log 2>&1) || true
}
export -f run_one
# UBSan only reports and goes on unless told to stop; a finding must stop.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
bins=()
for name in "${names[@]}"; do
  bins+=("$(find "$build" -path "$runs" -prune -o -type f -executable -name "$name" -print -quit)")
done
printf '%s\n' "${bins[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$seconds" "$runs"

status=0
printf '%-24s %12s %7s %8s %16s %8s\n' target executions cov ft corpus findings
for name in "${names[@]}"; do
  dir=$runs/$name
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  last=$(grep -E '^#[0-9]+.* cov: ' "$dir/log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus="$(find "$dir/corpus" -type f | wc -l) files $(($(du -sb "$dir/corpus" | cut -f1) / 1024))K"
  findings=$(find "$dir" -maxdepth 1 -regex '.*/\(crash\|leak\|timeout\|oom\)-.*' | wc -l)
  ((findings == 0)) || status=1
  printf '%-24s %12s %7s %8s %16s %8s\n' "$name" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
    "$corpus" "$findings"
done
((status == 0)) || echo "findings: see $runs/*/log and the files next to them"
exit $status
