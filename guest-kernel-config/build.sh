#!/usr/bin/env bash
# Builds the guest kernel (vmlinux with a PVH entry, and bzImage) from Debian's
# linux-source-6.1: tinyconfig + vmrt.config + olddefconfig.
#
# The result is cached outside the source tree, keyed by the hash of the
# fragment, this script and the kernel source package version, so a second run
# (or a fresh clone) is a cache hit. Prints the directory holding the result.
#
#   build.sh [--out DIR]     also copy vmlinux, bzImage and .config into DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/vmrt.config
cache_root=${VMRT_CACHE_DIR:-/var/cache/vmrt}/guest-kernel
src_tar=/usr/src/linux-source-6.1.tar.xz
out=""

while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

log() { echo "guest-kernel: $*" >&2; }

[ -r "$src_tar" ] || { log "missing $src_tar (install the linux-source-6.1 package)"; exit 1; }
src_version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( { cat "$fragment" "$0"; echo "$src_version"; } | sha256sum | cut -c1-16)
result=$cache_root/$key

mkdir -p "$cache_root"
# One builder at a time per cache; a concurrent caller waits and then hits.
exec 9>"$cache_root/.lock"
flock 9

copy_out() {
  if [ -n "$out" ]; then
    mkdir -p "$out"
    cp "$result/vmlinux" "$result/bzImage" "$result/config" "$out/"
  fi
  echo "$result"
}

if [ -f "$result/vmlinux" ]; then
  log "cache hit $key (linux-source $src_version)"
  copy_out
  exit 0
fi
log "cache miss $key: building linux-source $src_version"

# The unpacked source is shared by every key of the same source version.
src=$cache_root/src-$src_version
if [ ! -f "$src/.unpacked" ]; then
  rm -rf "$src" && mkdir -p "$src"
  tar -xJf "$src_tar" -C "$src" --strip-components=1
  touch "$src/.unpacked"
fi

obj=$cache_root/obj-$key
rm -rf "$obj" && mkdir -p "$obj"
trap 'rm -rf "$obj"' EXIT

cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"
mk() { make -C "$src" O="$obj" ARCH=x86_64 CC="$cc" KBUILD_BUILD_TIMESTAMP=vmrt KBUILD_BUILD_USER=vmrt KBUILD_BUILD_HOST=vmrt "$@"; }

mk -s tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment" >/dev/null
mk -s olddefconfig >/dev/null

# Kconfig silently drops options whose dependencies are unmet: insist on each.
missing=0
while read -r opt; do
  if ! grep -qx "$opt=y" "$obj/.config"; then
    log "required option $opt=y did not survive olddefconfig (got: $(grep -E "^(# )?$opt[= ]" "$obj/.config" || echo absent))"
    missing=1
  fi
done < <(grep -oE '^CONFIG_[A-Za-z0-9_]+=y' "$fragment" | cut -d= -f1)
while read -r opt; do
  if grep -qE "^$opt=(y|m)" "$obj/.config"; then
    log "option $opt must stay off but is $(grep -E "^$opt=" "$obj/.config")"
    missing=1
  fi
done < <(grep -oE '^# CONFIG_[A-Za-z0-9_]+ is not set' "$fragment" | awk '{print $2}')
[ "$missing" = 0 ] || { log "config check failed"; exit 1; }

mk -j"$(nproc)" vmlinux bzImage >"$obj/build.log" 2>&1 || { tail -40 "$obj/build.log" >&2; log "kernel build failed"; exit 1; }

tmp=$cache_root/.tmp-$key
rm -rf "$tmp" && mkdir -p "$tmp"
cp "$obj/vmlinux" "$tmp/vmlinux"
cp "$obj/arch/x86/boot/bzImage" "$tmp/bzImage"
cp "$obj/.config" "$tmp/config"
rm -rf "$result" && mv "$tmp" "$result"
log "built $result ($(du -h "$result/vmlinux" | cut -f1) vmlinux)"
copy_out
