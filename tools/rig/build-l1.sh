#!/usr/bin/env bash
# Prepares the testvm L1 bundle: Debian's stock kernel (linux-image-amd64,
# downloaded and unpacked, never installed) and an initramfs with busybox, the
# modules the rig needs and tools/rig/l1-init. Cached outside the source tree,
# keyed by the kernel package and the inputs of this script. Prints the bundle
# directory (holding vmlinuz and initrd.gz).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${VMRT_CACHE_DIR:-/var/cache/vmrt}/testvm
log() { echo "testvm-bundle: $*" >&2; }

# Modules loaded in L1, dependencies first (their closure is added below).
modules=(
  irqbypass ccp kvm kvm-amd               # nested KVM on the emulated AMD CPU
  virtio_pci 9pnet_virtio 9p               # host root and shares over 9p
  virtio_console                           # hvc0, the command's output
  overlay fuse tun veth bridge             # containerd snapshots, FUSE tests, networking
  sch_ingress cls_u32 act_mirred           # a pod's veth wired to its VM's tap (tc redirect)
  vhost_vsock vhost_net                    # QEMU reference guests: vsock, vhost-net
  # Docker's and podman's bridge networks and -p: iptables (nft backend)
  crc32c_generic                           # libcrc32c (nf_tables, conntrack) needs the algorithm
  nf_tables nft_compat nft_chain_nat nft_nat nft_masq nft_ct br_netfilter
  xt_addrtype xt_conntrack xt_MASQUERADE xt_nat xt_tcpudp xt_comment xt_mark xt_multiport
  # service-mesh rules in runc pods (cri_mesh_test), both iptables back ends:
  # L1 has no /lib/modules to load them on demand
  xt_REDIRECT xt_owner xt_connmark xt_socket xt_TPROXY
  iptable_nat iptable_mangle ip6table_nat ip6table_mangle
)

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$pkg" ]; then
  # Without package lists (offline), reuse the newest bundle already built.
  latest=$(ls -td "$cache_root"/*/ 2>/dev/null | head -1 || true)
  [ -n "$latest" ] && [ -f "$latest/initrd.gz" ] || { log "cannot resolve linux-image-amd64 (run apt-get update)"; exit 1; }
  echo "${latest%/}"
  exit 0
fi
key=$( { echo "$pkg"; cat "$0" "$here/l1-init" "$here/kvm_holder.py" "$here/world_switch_watch.py"; } | sha256sum | cut -c1-16)
result=$cache_root/$key
mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9
if [ -f "$result/initrd.gz" ]; then
  echo "$result"
  exit 0
fi
log "building L1 bundle from $pkg"

work=$(mktemp -d "$cache_root/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q "$pkg" >/dev/null 2>&1) || { log "apt-get download $pkg failed"; exit 1; }
dpkg -x "$work"/*.deb "$work/pkg"
kver=$(ls "$work/pkg/lib/modules")
depmod -b "$work/pkg" "$kver"
moddir=$work/pkg/lib/modules/$kver

# Resolve each module to its file and its dependencies, deepest first.
declare -A seen=()
order=()
add() {
  local rel=$1 dep
  [ -n "${seen[$rel]:-}" ] && return
  seen[$rel]=1
  for dep in $(awk -v m="$rel:" '$1 == m { $1 = ""; print }' "$moddir/modules.dep"); do add "$dep"; done
  order+=("$rel")
}
for m in "${modules[@]}"; do
  rel=$(awk -F: -v n="/${m//-/[-_]}.ko" '$1 ~ n"(\\.xz|\\.zst)?$" {print $1; exit}' "$moddir/modules.dep")
  [ -n "$rel" ] || { log "module $m not found in $pkg"; exit 1; }
  add "$rel"
done

root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,modules}
cp /bin/busybox "$root/bin/busybox"
install -m 0755 "$here/l1-init" "$root/init"
install -m 0644 "$here/kvm_holder.py" "$root/kvm_holder.py"
install -m 0644 "$here/world_switch_watch.py" "$root/world_switch_watch.py"
for rel in "${order[@]}"; do
  name=$(basename "$rel")
  case "$name" in
    *.xz) xz -dc "$moddir/$rel" >"$root/modules/${name%.xz}"; name=${name%.xz} ;;
    *.zst) zstd -qdc "$moddir/$rel" >"$root/modules/${name%.zst}"; name=${name%.zst} ;;
    *) cp "$moddir/$rel" "$root/modules/$name" ;;
  esac
  echo "$name" >>"$root/modules/order"
done
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -6) >"$work/initrd.gz"

mkdir -p "$work/out"
cp "$work/pkg/boot/vmlinuz-$kver" "$work/out/vmlinuz"
mv "$work/initrd.gz" "$work/out/initrd.gz"
echo "$pkg" >"$work/out/package"
rm -rf "$result" && mv "$work/out" "$result"
log "built $result ($(du -h "$result/initrd.gz" | cut -f1) initrd)"
echo "$result"
