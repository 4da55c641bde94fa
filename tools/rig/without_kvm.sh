#!/usr/bin/env bash
# Runs a command as on a machine with no /dev/kvm: in a private mount
# namespace whose /dev is a copy of this one without kvm. For trying what
# vmrt and its test suite do on such a host from a host that has one.
#
#   tools/rig/without_kvm.sh CMD [ARG...]      (as root)
set -euo pipefail
[ $# -gt 0 ] || { sed -n '6p' "$0" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "without_kvm.sh: run as root (it needs a mount namespace)" >&2; exit 1; }
if [ "${VMRT_WITHOUT_KVM_INSIDE:-}" != 1 ]; then
  exec env VMRT_WITHOUT_KVM_INSIDE=1 unshare --mount --propagation private -- "$0" "$@"
fi
unset VMRT_WITHOUT_KVM_INSIDE
dev=$(mktemp -d)
mount -t tmpfs -o mode=0755 devcopy "$dev"
for entry in /dev/* /dev/.[!.]*; do
  [ -e "$entry" ] || [ -L "$entry" ] || continue
  name=${entry#/dev/}
  [ "$name" = kvm ] && continue
  if mountpoint -q "$entry"; then
    # /dev/pts, /dev/shm, /dev/mqueue, /dev/hugepages: the same mounts.
    mkdir "$dev/$name"
    mount --rbind "$entry" "$dev/$name"
  else
    cp -a "$entry" "$dev/"
  fi
done
mount --move "$dev" /dev
rmdir "$dev"
exec "$@"
