#!/usr/bin/env bash
# The FUSE server against bindfs (libfuse) and the plain directory, through
# host FUSE mounts of directories on the same file system, in one run:
#   - metadata: create+stat+unlink of N files (files/s),
#   - fio sequential write and read of one file, 1 MiB blocks (MiB/s).
# Targets alternate within each run; the table shows the mean of RUNS runs
# and the vmrt/bindfs ratios (above 1: vmrt is faster).
#
#   tools/bench/fuse.sh [RUNS]          (as root; needs bindfs, fio, python3)
#   env: VMRT_BUILD (build dir, default build/), FILES (10000), SIZE (fio, 512M),
#        CACHE (vmrt cache modes to measure, default "auto"), THREADS (4)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-3}
build=${VMRT_BUILD:-$repo/build}
files=${FILES:-10000} size=${SIZE:-512M} modes=${CACHE:-auto} threads=${THREADS:-4}
mount_bin=$build/vmm/fuse/vmrt-fs-mount
for tool in bindfs fio python3; do
  command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
[ -x "$mount_bin" ] || { echo "build vmrt-fs-mount first: ninja -C $build vmrt-fs-mount" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (FUSE mounts with allow_other)" >&2; exit 1; }

base=$(mktemp -d /var/tmp/vmrt-fuse-bench.XXXXXX)
pids=()
cleanup() {
  for m in "$base"/*/mnt; do mountpoint -q "$m" && umount -l "$m"; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$base"
}
trap cleanup EXIT

wait_mounted() {
  for _ in $(seq 200); do mountpoint -q "$1" && return 0; sleep 0.05; done
  echo "no mount on $1" >&2; exit 1
}

# Target name -> the directory the workload runs in.
declare -A dirs
targets=(plain bindfs)
mkdir -p "$base/plain/mnt"; dirs[plain]=$base/plain/mnt
mkdir -p "$base/bindfs/src" "$base/bindfs/mnt"
bindfs --multithreaded "$base/bindfs/src" "$base/bindfs/mnt"
wait_mounted "$base/bindfs/mnt"; dirs[bindfs]=$base/bindfs/mnt
for mode in $modes; do
  t=vmrt-$mode
  mkdir -p "$base/$t/src" "$base/$t/mnt"
  "$mount_bin" --cache "$mode" --threads "$threads" --log-level warn "$base/$t/src" "$base/$t/mnt" &
  pids+=($!)
  wait_mounted "$base/$t/mnt"; dirs[$t]=$base/$t/mnt
  targets+=("$t")
done

# meta DIR: files/s for create+stat+unlink of $files files.
meta() {
  python3 - "$1" "$files" <<'PY'
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(d, "meta"), exist_ok=True)
names = [os.path.join(d, "meta", "f%06d" % i) for i in range(n)]
t0 = time.perf_counter()
for p in names:
    os.close(os.open(p, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644))
for p in names:
    os.stat(p)
for p in names:
    os.unlink(p)
print("%.0f" % (n / (time.perf_counter() - t0)))
PY
}

# fio_bw write|read DIR: MiB/s of one fio job.
fio_bw() {
  local rw=$1 dir=$2
  fio --name=seq --directory="$dir" --filename=fio.dat --rw="$rw" --bs=1M --size="$size" \
    --ioengine=psync --end_fsync=1 --invalidate=1 --output-format=json 2>/dev/null |
    python3 -c "import json,sys; j=json.load(sys.stdin)['jobs'][0]; print('%.0f' % (j['$rw']['bw']/1024))"
}

results=$(for i in $(seq "$runs"); do
  for t in "${targets[@]}"; do
    d=${dirs[$t]}
    echo "$t $(meta "$d") $(fio_bw write "$d") $(fio_bw read "$d")"
    rm -f "$d/fio.dat"
  done
done)

echo "runs=$runs files=$files fio size=$size bs=1M psync, vmrt threads=$threads, bindfs --multithreaded"
printf '%-12s %14s %16s %15s\n' target meta_files/s seq_write_MiB/s seq_read_MiB/s
for t in "${targets[@]}"; do
  awk -v n="$t" '$1==n {m+=$2; w+=$3; r+=$4; k++} END {printf "%-12s %14d %16d %15d\n", n, m/k, w/k, r/k}' <<<"$results"
done
for t in "${targets[@]}"; do
  case $t in vmrt-*) ;; *) continue ;; esac
  awk -v n="$t" '$1==n {m+=$2; w+=$3; r+=$4} $1=="bindfs" {bm+=$2; bw+=$3; br+=$4} END {
    printf "ratio %s/bindfs: meta %.2f, seq write %.2f, seq read %.2f\n", n, m/bm, w/bw, r/br}' <<<"$results"
done
