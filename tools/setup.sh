#!/usr/bin/env bash
# One-command setup on Debian 12, as root. Idempotent.
#
#   tools/setup.sh [--no-example] [--build-dir DIR]
#
# Installs every Debian package vmrt needs, configures and builds all binaries,
# the guest kernel (cached outside the tree) and the testvm L1 bundle,
# installs them under /usr/local, then runs the example: a busybox OCI bundle
# in a micro-VM with `vmrt run` (inside the test rig where the host's KVM
# cannot boot guests).
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
  libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libgtest-dev libgmock-dev
  libseccomp-dev libcap-dev libfdt-dev libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  zlib1g-dev
  # guest kernel build
  linux-source-6.1 bc bison flex libelf-dev libssl-dev dwarves kmod cpio xz-utils zstd
  # test rig, guest images and peers
  qemu-system-x86 busybox-static python3 time
  runc runsc umoci bindfs fio attr containerd
  # pod networking: CNI bridge + host-local plugins, ip and tc for the tests;
  # iptables (both back ends) for the service-mesh test's image
  containernetworking-plugins iproute2 iputils-ping iptables
  # Docker and podman driving vmrt (client rig tests, tools/bench/client_run.sh);
  # podman's netavark network stack, its DNS and catatonit (--init) are only
  # Recommends, and without netavark podman would fall back to CNI
  docker.io podman netavark aardvark-dns catatonit
  # OCI runtime-tools validation suite (tools/oci-validation), Go build only
  golang-go golang-github-opencontainers-runtime-tools-dev golang-github-google-uuid-dev
  # ttrpc interop tests (a Go peer built at test time)
  golang-github-containerd-ttrpc-dev
  # containerd's shim v2, events and cgroup metrics protos (proto/containerd, read at build time)
  golang-github-containerd-containerd-dev golang-github-gogo-protobuf-dev golang-github-containerd-cgroups-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -q
  # Without systemd, docker.io's postinst starts dockerd through its init
  # script; nothing here needs a system dockerd (the tests and benchmarks start
  # their own), so a policy-rc.d keeps services from starting in this install.
  policy=""
  if [ ! -d /run/systemd/system ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    trap 'rm -f "$policy"' EXIT
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  if [ -n "$policy" ]; then
    rm -f "$policy"
    trap - EXIT
  fi
fi
# The rig downloads the current Debian kernel package: keep package lists present.
ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -q

log "building (guest kernel: cached under ${VMRT_CACHE_DIR:-/var/cache/vmrt})"
cmake -S "$repo" -B "$build" -G Ninja >/dev/null
ninja -C "$build"

# CNI's state directory (the rig puts a tmpfs on it, so it must exist).
mkdir -p /var/lib/cni

log "preparing the testvm L1 bundle"
"$repo/tools/rig/build-l1.sh" >/dev/null

log "installing vmrt, vmrt-vmm, the guest kernel and image under /usr/local"
cmake --install "$build" --strip >/dev/null

if [ "$example" = 1 ]; then
  log "example: a busybox OCI bundle run with vmrt in its own micro-VM"
  "$repo/tools/example.sh" /usr/local/bin/vmrt
fi
