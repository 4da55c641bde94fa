#!/usr/bin/env bash
# Builds the guest initramfs: vmrt-agent as /init plus exactly the shared
# libraries it loads, found by following the ELF NEEDED entries from the
# binary (through the dynamic loader's own resolution, ldd), so the list is
# never written by hand and follows the build. Binaries are stripped. Prints
# the compressed and uncompressed sizes.
#
#   build-initramfs.sh [--busybox PATH] AGENT OUTPUT.cpio.gz
#
# --busybox adds a static busybox as /bin/busybox with /bin/sh, for
# debugging a guest by hand (the agent does not need it).
set -euo pipefail

busybox=""
while [ $# -gt 0 ]; do
  case "$1" in
    --busybox) busybox=$2; shift 2 ;;
    --) shift; break ;;
    -*) echo "build-initramfs: unknown option '$1'" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { sed -n '9p' "$0" | sed 's/^# *//' >&2; exit 2; }
agent=$1 out=$2
[ -x "$agent" ] || { echo "build-initramfs: no executable agent at '$agent'" >&2; exit 1; }
for tool in ldd cpio gzip strip; do
  command -v "$tool" >/dev/null || { echo "build-initramfs: '$tool' not found" >&2; exit 1; }
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/vmrt-initramfs.XXXXXX")
trap 'rm -rf "$stage" "$stage.cpio"' EXIT

# Every file the dynamic loader maps for `bin`: libraries by resolved path
# ("libx.so => /path (addr)") and the loader itself ("/path (addr)").
# A library ldd cannot find fails the build instead of a boot.
libraries() {
  local bin=$1 listing
  listing=$(ldd "$bin" 2>&1) || { case "$listing" in *"not a dynamic executable"*) return 0 ;; *) echo "$listing" >&2; return 1 ;; esac; }
  if grep -q "not found" <<<"$listing"; then
    echo "build-initramfs: $bin: unresolved libraries:" >&2
    grep "not found" <<<"$listing" >&2
    return 1
  fi
  awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$listing"
}

# install_file SRC DEST: copies (following links) and strips ELF files.
install_file() {
  mkdir -p "$(dirname "$2")"
  cp -L "$1" "$2"
  strip --strip-unneeded "$2" 2>/dev/null || true
}

mkdir -p "$stage"/{proc,sys,dev,run,tmp,etc,bin,sbin}
chmod 1777 "$stage/tmp"
install_file "$agent" "$stage/init"
count=0
for lib in $(libraries "$agent" | sort -u); do
  install_file "$lib" "$stage$lib"
  count=$((count + 1))
done
# Debian's loader path is /lib64/ld-linux-x86-64.so.2 by way of a /lib64
# link; ldd names the path the binary's PT_INTERP asks for, so it is there.

if [ -n "$busybox" ]; then
  [ -z "$(libraries "$busybox")" ] || { echo "build-initramfs: $busybox is not static" >&2; exit 1; }
  install_file "$busybox" "$stage/bin/busybox"
  ln -s busybox "$stage/bin/sh"
fi

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
  cpio --quiet -o -H newc -R 0:0 --reproducible) >"$stage.cpio"
gzip -9 -n -c "$stage.cpio" >"$out.tmp"
mv "$out.tmp" "$out"
raw=$(stat -c %s "$stage.cpio")
echo "initramfs $out: $(stat -c %s "$out") bytes compressed, $raw uncompressed," \
  "agent + $count shared libraries${busybox:+ + busybox}"
