#!/usr/bin/env bash
# One-command setup on Debian 12, as root. Idempotent.
#
#   tools/setup.sh [--no-example] [--build-dir DIR]
#
# Installs every Debian package vmrt needs, configures and builds all binaries,
# the guest kernel (cached outside the tree) and the testvm L1 bundle, then
# runs the example: a guest boot inside the test rig.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build
example=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-example) example=0; shift ;;
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
log() { echo "==> $*" >&2; }

[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (it installs packages and uses /dev/kvm)" >&2; exit 1; }

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang clang-format lld
  # libraries
  libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev
  libseccomp-dev libcap-dev libfdt-dev libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # guest kernel build
  linux-source-6.1 bc bison flex libelf-dev libssl-dev dwarves kmod cpio xz-utils zstd
  # test rig, guest images and peers
  qemu-system-x86 busybox-static python3 time
  runc umoci bindfs fio attr
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The rig downloads the current Debian kernel package: keep package lists present.
ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -q

log "building (guest kernel: cached under ${VMRT_CACHE_DIR:-/var/cache/vmrt})"
cmake -S "$repo" -B "$build" -G Ninja >/dev/null
ninja -C "$build"

log "preparing the testvm L1 bundle"
"$repo/tools/rig/build-l1.sh" >/dev/null

if [ "$example" = 1 ]; then
  log "example: boot the guest kernel in a micro-VM inside tools/testvm"
  "$repo/tools/testvm" -- qemu-system-x86_64 -M microvm,isa-serial=on,rtc=off,acpi=off -enable-kvm -cpu host \
    -m 128 -smp 2 -nodefaults -no-user-config -nographic -no-reboot -serial stdio \
    -kernel "$build/guest-kernel/vmlinux" -initrd "$build/tests/rig/test-initramfs.cpio" \
    -append "console=ttyS0 reboot=t panic=-1 quiet"
fi
