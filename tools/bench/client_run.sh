#!/usr/bin/env bash
# `docker run --rm IMAGE true` and `podman run --rm IMAGE true` with runc and
# with vmrt, on a busybox image imported from a tarball: wall time of the
# whole client command, one warm-up run per runtime, then RUNS runs of each
# alternating runc and vmrt; per client the median and minimum of each
# runtime and the vmrt/runc ratio of the medians.
#
# Docker is a dockerd of its own (with its own containerd) on private paths,
# vmrt registered in its daemon.json as Docker documents it; podman runs with
# private storage and picks the runtime with --runtime (vmrt's configuration
# with --runtime-flag). Everything started (dockerd, containerd, containers,
# mounts) is stopped and removed on exit.
#
# vmrt needs a KVM that boots guests: without one (no /dev/kvm, or kvm_pvm)
# the whole comparison runs inside tools/testvm (runc too, same L1 VM).
# Absolute times there are inflated by the emulated CPU; compare the ratios.
# Where the host's KVM boots guests it runs on the host: stop a system
# dockerd first, whose docker0 bridge the private one would share.
#
#   tools/bench/client_run.sh [RUNS] [CLIENTS]     (as root; e.g. 5 docker,podman)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-5}
clients=${2:-docker,podman}
build=$repo/build
vmrt_bin=$build/tools/vmrt/vmrt
config=$build/vmrt-dev.toml
image=localhost/bb:test
# /usr/local/bin may hold another docker CLI: Debian's is the one beside dockerd.
docker_cli=/usr/bin/docker dockerd=/usr/sbin/dockerd

[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "client_run.sh: RUNS '$runs' is not a positive number" >&2; exit 2; }
IFS=, read -ra client_list <<<"$clients"
for c in "${client_list[@]}"; do
  case "$c" in
    docker) { [ -x "$dockerd" ] && [ -x "$docker_cli" ]; } || { echo "client_run.sh: needs $dockerd and $docker_cli (package: docker.io)" >&2; exit 1; } ;;
    podman) command -v podman >/dev/null || { echo "client_run.sh: needs podman (package: podman)" >&2; exit 1; } ;;
    *) echo "client_run.sh: unknown client '$c' (docker, podman)" >&2; exit 2 ;;
  esac
done
command -v runc >/dev/null || { echo "client_run.sh: runc not found" >&2; exit 1; }
[ -x "$vmrt_bin" ] || { echo "build first: cmake --build build --target vmrt" >&2; exit 1; }
. "$repo/tools/rig/host_kvm.sh"
run_here_if_guests_boot VMRT_BENCH_INSIDE --timeout 3600 -- "$0" "$runs" "$clients"
[ "$(id -u)" = 0 ] || { echo "client_run.sh: needs root" >&2; exit 1; }

# /var/tmp, not /tmp: the clients' overlay storage lives here (tmpfs in the rig).
work=$(mktemp -d /var/tmp/client-bench.XXXXXX)
dockerd_pid="" containerd_pid="" etc_docker_mounted=""
docker_cmd=("$docker_cli" -H "unix://$work/docker.sock")
podman_cmd=(podman --root "$work/podman/root" --runroot "$work/podman/run" --tmpdir "$work/podman/tmp"
  --network-config-dir "$work/podman/netconf" --cgroup-manager cgroupfs --events-backend file)

# stop_pid PID SECONDS: SIGTERM, then SIGKILL after SECONDS; waits for it to go.
stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq $(($2 * 10))); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

stop_dockerd() {
  [ -n "$dockerd_pid" ] || return 0
  local ids
  ids=$(timeout 60 "${docker_cmd[@]}" ps -aq 2>/dev/null || true)
  [ -z "$ids" ] || timeout 300 "${docker_cmd[@]}" rm -f $ids >/dev/null 2>&1 || true
  # dockerd stops the containerd it started; it is killed here if it did not.
  stop_pid "$dockerd_pid" 60
  [ -z "$containerd_pid" ] || stop_pid "$containerd_pid" 10
  dockerd_pid="" containerd_pid=""
}

cleanup() {
  stop_dockerd
  if [ -d "$work/podman/root" ]; then
    for r in runc vmrt; do
      podman_runtime "$r"
      timeout 300 "${podman_cmd[@]}" "${podman_rt[@]}" rm --all --force --time 0 >/dev/null 2>&1 || true
    done
  fi
  # Mounts left under the work directory (overlays, netns bind mounts), deepest first.
  awk -v w="$work" '$5 == w || index($5, w "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  [ -z "$etc_docker_mounted" ] || umount -l /etc/docker 2>/dev/null || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# podman's runtime options for RUNTIME.
podman_runtime() {
  case "$1" in
    runc) podman_rt=(--runtime "$(command -v runc)") ;;
    vmrt) podman_rt=(--runtime "$vmrt_bin" --runtime-flag "config=$config") ;;
  esac
}

# The image: static busybox with every applet linked in /bin.
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$work/podman"
cp /usr/bin/busybox "$rootfs/bin/busybox"
# One process for the ~400 links (a fork each is slow under TCG).
/usr/bin/busybox --list | python3 -c '
import os, sys
for a in sys.stdin.read().split():
    if a != "busybox":
        os.symlink("busybox", os.path.join(sys.argv[1], a))' "$rootfs/bin"
tar -C "$rootfs" -cf "$work/rootfs.tar" .

start_dockerd() {
  # dockerd writes its key to /etc/docker, read-only in the rig.
  if [ ! -w /etc/docker ]; then
    mount -t tmpfs -o mode=0755 tmpfs /etc/docker
    etc_docker_mounted=1
  fi
  printf '{"runtimes": {"vmrt": {"path": "%s", "runtimeArgs": ["--config", "%s"]}}}\n' \
    "$vmrt_bin" "$config" >"$work/daemon.json"
  "$dockerd" --config-file "$work/daemon.json" --data-root "$work/docker" --exec-root "$work/docker-exec" \
    --pidfile "$work/docker.pid" -H "unix://$work/docker.sock" >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 120); do
    timeout 30 "${docker_cmd[@]}" info >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 1
  done
  if ! timeout 30 "${docker_cmd[@]}" info >/dev/null 2>&1; then
    echo "client_run.sh: dockerd did not start; its log:" >&2
    tail -20 "$work/dockerd.log" >&2
    exit 1
  fi
  containerd_pid=$(cat "$work/docker-exec/containerd/containerd.pid" 2>/dev/null || true)
}

# set_cmd CLIENT RUNTIME: cmd=(the timed command).
set_cmd() {
  case "$1" in
    docker) cmd=("${docker_cmd[@]}" run --rm --runtime "$2" "$image" true) ;;
    podman) podman_runtime "$2"; cmd=("${podman_cmd[@]}" "${podman_rt[@]}" run --rm "$image" true) ;;
  esac
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# Successful runs' ms from FILE: median, then minimum (or "-" when none succeeded).
median_of() { { grep -v fail "$1" || true; } | sort -n | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)); else print "-"}'; }
min_of() { { grep -v fail "$1" || true; } | sort -n | awk 'NR==1 {print; found=1} END {if (!found) print "-"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'; }

# time_one CLIENT RUNTIME: prints the command's wall ms, or "fail".
time_one() {
  local t0 t1 cmd
  set_cmd "$1" "$2"
  t0=$(now_ms)
  if timeout 300 "${cmd[@]}" >/dev/null 2>>"$work/errors"; then
    t1=$(now_ms)
    echo $((t1 - t0))
  else
    echo "$1 $2: failed" >>"$work/errors"
    echo fail
  fi
}

if [ "${VMRT_BENCH_INSIDE:-}" = 1 ]; then
  echo "runs=$runs image=$image (busybox true), inside tools/testvm (QEMU TCG L1: absolute times are inflated, compare ratios)"
else
  echo "runs=$runs image=$image (busybox true), on this host ($(host_kvm_describe))"
fi
: >"$work/errors"
summary=()
for c in "${client_list[@]}"; do
  [ "$c" != docker ] || start_dockerd
  case "$c" in
    docker) import=("${docker_cmd[@]}" import) ;;
    podman) import=("${podman_cmd[@]}" import) ;;
  esac
  "${import[@]}" "$work/rootfs.tar" "$image" >"$work/import.log" 2>&1 ||
    { echo "client_run.sh: $c import failed:" >&2; cat "$work/import.log" >&2; exit 1; }
  for r in runc vmrt; do
    [ "$(time_one "$c" "$r")" != fail ] || echo "$c $r: the warm-up run failed" >&2
    : >"$work/$c-$r.ms"
  done
  for _ in $(seq "$runs"); do
    for r in runc vmrt; do time_one "$c" "$r" >>"$work/$c-$r.ms"; done
  done
  [ "$c" != docker ] || stop_dockerd
  runc_med=$(median_of "$work/$c-runc.ms") runc_min=$(min_of "$work/$c-runc.ms")
  vmrt_med=$(median_of "$work/$c-vmrt.ms") vmrt_min=$(min_of "$work/$c-vmrt.ms")
  runc_fail=$(grep -c fail "$work/$c-runc.ms" || true) vmrt_fail=$(grep -c fail "$work/$c-vmrt.ms" || true)
  echo "$c: runc median_ms $runc_med min_ms $runc_min, vmrt median_ms $vmrt_med min_ms $vmrt_min," \
    "ratio vmrt/runc $(ratio "$vmrt_med" "$runc_med") (failures: runc $runc_fail, vmrt $vmrt_fail)"
  summary+=("$c $runc_med $runc_min $vmrt_med $vmrt_min $(ratio "$vmrt_med" "$runc_med") $((runc_fail + vmrt_fail))")
done

echo
printf '%-8s %15s %12s %15s %12s %10s %9s\n' client runc_median_ms runc_min_ms vmrt_median_ms vmrt_min_ms vmrt/runc failures
for line in "${summary[@]}"; do
  printf '%-8s %15s %12s %15s %12s %10s %9s\n' $line
done
if [ -s "$work/errors" ]; then
  echo "errors (first lines):"
  head -5 "$work/errors"
fi
