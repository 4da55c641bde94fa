#!/usr/bin/env bash
# virtio-fs with a real guest under vmrt-vmm, run inside tools/testvm: the
# guest (guest_init.c, VMRT_TEST_ACTION=virtiofs) mounts the share, writes,
# fsyncs, reads back, renames, unlinks and lists; the host sees the results,
# and a file the host adds afterwards is visible in the guest. Once per
# cache mode with different semantics (none, auto).
#
#   virtiofs.sh VMRT_VMM VMLINUX INITRAMFS
set -uo pipefail
vmm=$1 vmlinux=$2 initramfs=$3
failures=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; failures=$((failures + 1)); fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for cache in none auto; do
  share=$work/share-$cache console=$work/console-$cache
  mkdir -p "$share"
  echo "written on the host" >"$share/from_host.txt"
  "$vmm" --kernel "$vmlinux" --initrd "$initramfs" --mem 128 --console "$console" \
    --fs-dir "$share" --fs-cache "$cache" \
    --cmdline "console=ttyS0 reboot=k panic=-1 quiet VMRT_TEST_ACTION=virtiofs" 2>"$work/log" &
  pid=$!
  for _ in $(seq 900); do grep -q 'VMRT_FS_WORKLOAD_DONE\|VMRT_FS_FAILED' "$console" 2>/dev/null && break; sleep 0.2; done
  out=$(tr -d '\r' <"$console")
  check "[$cache] the guest mounts the share" '[[ "$out" == *VMRT_FS_MOUNTED* ]]'
  check "[$cache] the guest reads a host file" '[[ "$out" == *"VMRT_FS_HOST written on the host"* ]]'
  check "[$cache] write + fsync in the guest" '[[ "$out" == *"VMRT_FS_WRITE ok"* ]]'
  check "[$cache] read back in the guest" '[[ "$out" == *"VMRT_FS_READBACK guest data"* ]]'
  check "[$cache] rename and unlink in the guest" '[[ "$out" == *"VMRT_FS_RENAME ok"* && "$out" == *"VMRT_FS_UNLINK ok"* ]]'
  check "[$cache] the guest lists exactly b.txt" '[[ "$out" == *"VMRT_FS_LIST b.txt"$'"'"'\n'"'"'* ]]'
  check "[$cache] the host sees the renamed file with the guest's data" '[ "$(cat "$share/g/b.txt" 2>/dev/null)" = "guest data" ]'
  check "[$cache] the host sees neither the old name nor the unlinked file" '[ ! -e "$share/g/a.txt" ] && [ ! -e "$share/g/c.txt" ]'
  echo "changed on the host" >"$share/host_changed.txt"
  # Bounded: a guest or VMM that hangs fails here with its log and console,
  # instead of running into the rig's time limit.
  for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "vmrt-vmm $pid still runs 120 s after the workload; its threads:"
    for t in /proc/"$pid"/task/*; do echo "  $(cat "$t/comm") $(cat "$t/wchan")"; done
    kill -KILL "$pid"
  fi
  wait "$pid"
  rc=$?
  out=$(tr -d '\r' <"$console")
  check "[$cache] a host-side change is visible in the guest" '[[ "$out" == *"VMRT_FS_CHANGED changed on the host"* ]]'
  check "[$cache] the guest reboots and the VMM exits 0 (rc $rc)" '[ $rc = 0 ]'
  [ $failures = 0 ] || { cat "$work/log"; tail -30 <<<"$out"; }
done
check "no vmrt-vmm process is left" '! pgrep -x vmrt-vmm >/dev/null'
[ $failures = 0 ]
