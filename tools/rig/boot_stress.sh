#!/usr/bin/env bash
# Boots guests over and over inside tools/testvm and counts how each boot
# ended, to tell a flake of the nested rig from a fault of ours: per round,
# `vmrt run` of busybox true (the whole product path: jailed VMM, agent
# image, 256 MiB), vmrt-vmm booting the test initramfs directly, and QEMU
# -M microvm booting the same kernel and initramfs. The guest kernel logs
# everything (ignore_loglevel), and every failed boot's console tail and VMM
# log are printed.
#
#   tools/rig/boot_stress.sh [ROUNDS]        (as root)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-20}
build=$repo/build
. "$repo/tools/rig/qemu_microvm.sh"
if [ "${VMRT_STRESS_INSIDE:-}" != 1 ]; then
  exec "$repo/tools/testvm" --timeout $((rounds * 90 + 120)) --env VMRT_STRESS_INSIDE=1 \
    --env VMRT_STRESS_ONLY="${VMRT_STRESS_ONLY:-}" -- "$0" "$rounds"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/boot-stress.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
kernel=$build/guest-kernel/vmlinux initrd=$build/tests/rig/test-initramfs.cpio
cmdline="console=ttyS0 reboot=k panic=-1 ignore_loglevel"

bundle=$work/bundle
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/true"
(cd "$bundle" && "$build/tools/vmrt/vmrt" spec)
python3 - "$bundle/config.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["process"]["terminal"] = False
s["process"]["args"] = ["/bin/true"]
json.dump(s, open(sys.argv[1], "w"), indent=1)
PY
sed 's/^boot_timeout_s = .*/&\nkernel_params = "ignore_loglevel"/' "$build/vmrt-dev.toml" >"$work/config.toml"

declare -A ok fail
record() { # NAME STATUS LOGFILE
  if [ "$2" = 0 ]; then
    ok[$1]=$((${ok[$1]:-0} + 1))
  else
    fail[$1]=$((${fail[$1]:-0} + 1))
    echo "=== $1 failed (status $2); its output:"
    cat "$3"
  fi
}

# VMRT_STRESS_ONLY=vmrt-run: only the product path, for more rounds per minute.
only=${VMRT_STRESS_ONLY:-}
for i in $(seq "$rounds"); do
  s=0
  # The sandbox removes its console log with the VM: follow it as it grows.
  tail -F "$work/root/s$i/console.log" >"$work/console" 2>/dev/null &
  follower=$!
  timeout 120 "$build/tools/vmrt/vmrt" --config "$work/config.toml" --root "$work/root" \
    run -b "$bundle" "s$i" >"$work/out" 2>&1 || s=$?
  sleep 1
  kill "$follower"
  if [ "$s" != 0 ]; then
    echo "--- its whole console:" >>"$work/out"
    cat "$work/console" >>"$work/out"
  fi
  record vmrt-run "$s" "$work/out"
  [ "$only" != vmrt-run ] || { echo "round $i: ok ${ok[*]:-} fail ${fail[*]:-}"; continue; }

  s=0
  timeout 60 "$build/vmm/vmrt-vmm" --kernel "$kernel" --initrd "$initrd" --mem 128 \
    --console "$work/console" --cmdline "$cmdline" >"$work/out" 2>&1 || s=$?
  # A VMM that exits 0 without the guest reaching userspace failed too.
  [ "$s" != 0 ] || grep -q VMRT_GUEST_READY "$work/console" || s=99
  cat "$work/console" >>"$work/out"
  record vmrt-vmm "$s" "$work/out"

  s=0
  qemu_microvm_argv 128 1 stdio "$kernel" "$initrd" "$cmdline"
  timeout 60 "${qemu_argv[@]}" >"$work/out" 2>&1 || s=$?
  [ "$s" != 0 ] || grep -q VMRT_GUEST_READY "$work/out" || s=99
  record qemu-microvm "$s" "$work/out"
  echo "round $i: ok ${ok[*]:-} fail ${fail[*]:-}"
done

echo "boots that reached the guest's userspace, of $rounds each:"
for n in vmrt-run vmrt-vmm qemu-microvm; do echo "  $n: ${ok[$n]:-0} ok, ${fail[$n]:-0} failed"; done
