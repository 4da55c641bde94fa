#!/usr/bin/env bash
# Growing and shrinking a running pod's VM, beside runc doing the same
# update: `vmrt update --memory 1g` on a container whose VM has nothing
# plugged (virtio-mem plugs 1 GiB and the guest onlines it), back to no
# limit (the guest unplugs it), `--cpu-quota` for one more core (the agent
# onlines a vCPU) and back; `runc update` with the same flags on a runc
# container is the reference (it only writes cgroup files). Then what an
# offline vCPU costs the host: the CPU time of the VMM's vcpu1 thread over
# IDLE_S seconds while the guest has it offline, beside vcpu0 (online, the
# guest idle) over the same seconds.
#
# vmrt needs a KVM that boots guests: without one (no /dev/kvm, or kvm_pvm)
# the whole comparison runs inside tools/testvm.
#
#   tools/bench/pod_resize.sh [RUNS] [IDLE_S]        (as root)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-5}
idle_s=${2:-60}
build=$repo/build
vmrt_bin=$build/tools/vmrt/vmrt

. "$repo/tools/rig/host_kvm.sh"
if [ "${VMRT_BENCH_INSIDE:-}" != 1 ] && ! host_kvm_boots_guests; then
  echo "== inside tools/testvm (nested KVM; absolute times are TCG-inflated, compare ratios)"
  exec "$repo/tools/testvm" --timeout 3600 --env VMRT_BENCH_INSIDE=1 -- "$0" "$runs" "$idle_s"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/resize-bench.XXXXXX")
cleanup() {
  runc --root "$work/runc-root" delete -f bench >/dev/null 2>&1 || true
  "$vmrt_bin" --root "$work/vmrt-root" delete -f bench >/dev/null 2>&1 || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# Room to grow: two vCPUs, 1 GiB of hotplug memory over the 256 MiB base.
export VMRT_CONFIG=$work/vmrt.toml
{ cat "$build/vmrt-dev.toml"; printf '\n[annotations]\nmax_vcpus = 2\nmax_memory_mib = 1280\n'; } >"$VMRT_CONFIG"

bundle=$work/bundle
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for c in sh sleep cat grep; do ln -s busybox "$bundle/rootfs/bin/$c"; done
(cd "$bundle" && runc spec)
python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
s = json.load(open(p))
s["process"]["terminal"] = False
s["process"]["args"] = ["sleep", "3600"]
s["linux"]["namespaces"] = [n for n in s["linux"]["namespaces"] if n["type"] != "network"]
json.dump(s, open(p, "w"), indent=1)
PY

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)); else print "-"}'; }
# timed FILE CMD...: appends the command's wall ms to FILE; a failure stops the run.
timed() {
  local file=$1 t0
  shift
  t0=$(now_ms)
  "$@" >/dev/null
  echo $(($(now_ms) - t0)) >>"$work/$file"
}
mem_total_mib() { "$vmrt_bin" --root "$work/vmrt-root" exec bench grep MemTotal /proc/meminfo | awk '{print int($2 / 1024)}'; }
online() { "$vmrt_bin" --root "$work/vmrt-root" exec bench cat /sys/devices/system/cpu/online; }

vmrt=("$vmrt_bin" --root "$work/vmrt-root")
runc=(runc --root "$work/runc-root")
for _ in $(seq "$runs"); do
  "${vmrt[@]}" run -d -b "$bundle" bench </dev/null >/dev/null
  "${runc[@]}" run -d -b "$bundle" bench </dev/null >/dev/null
  base=$(mem_total_mib)
  timed vmrt-plug.ms "${vmrt[@]}" update --memory 1073741824 bench
  grown=$(mem_total_mib)
  timed runc-mem.ms "${runc[@]}" update --memory 1073741824 bench
  timed vmrt-unplug.ms "${vmrt[@]}" update --memory -1 bench
  shrunk=$(mem_total_mib)
  timed runc-mem.ms "${runc[@]}" update --memory -1 bench
  timed vmrt-online.ms "${vmrt[@]}" update --cpu-period 100000 --cpu-quota 200000 bench
  cpus_up=$(online)
  timed runc-cpu.ms "${runc[@]}" update --cpu-period 100000 --cpu-quota 200000 bench
  timed vmrt-offline.ms "${vmrt[@]}" update --cpu-quota -1 bench
  cpus_down=$(online)
  timed runc-cpu.ms "${runc[@]}" update --cpu-quota -1 bench
  echo "run: MemTotal $base -> $grown -> $shrunk MiB, online CPUs $cpus_up -> $cpus_down"
  "${vmrt[@]}" delete -f bench
  "${runc[@]}" delete -f bench
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/ && b > 0) printf "%.1f", a / b; else print "-" }'; }
runc_mem=$(median <"$work/runc-mem.ms")
runc_cpu=$(median <"$work/runc-cpu.ms")
for k in plug unplug online offline; do
  m=$(median <"$work/vmrt-$k.ms")
  case $k in plug | unplug) ref=$runc_mem ;; *) ref=$runc_cpu ;; esac
  echo "rig vmrt update ($k) median_ms $m  runc update median_ms $ref  ratio $(ratio "$m" "$ref")"
done

# An offline vCPU's cost: its thread's time on a CPU (schedstat, ns) over
# IDLE_S seconds, beside the online vCPU of the same idle guest.
"${vmrt[@]}" run -d -b "$bundle" bench </dev/null >/dev/null
vmm=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vmm"]["pid"])' "$work/vmrt-root/bench/state.json")
tid_of() { grep -lx "$1" /proc/"$vmm"/task/*/comm | head -1 | cut -d/ -f5; }
on_cpu_ns() { cut -d' ' -f1 /proc/"$vmm"/task/"$1"/schedstat; }
t0=$(tid_of vcpu0)
t1=$(tid_of vcpu1)
echo "guest online CPUs: $(online)"
a0=$(on_cpu_ns "$t0")
a1=$(on_cpu_ns "$t1")
sleep "$idle_s"
b0=$(on_cpu_ns "$t0")
b1=$(on_cpu_ns "$t1")
echo "host CPU over ${idle_s} s: offline vcpu1 $(((b1 - a1) / 1000)) us, online idle vcpu0 $(((b0 - a0) / 1000)) us"
