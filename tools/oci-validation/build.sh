#!/usr/bin/env bash
# Builds the OCI runtime-tools validation suite into a cache directory outside
# the repository and prints that directory.
#
#   tools/oci-validation/build.sh
#
# The cache directory ${VMRT_CACHE_DIR:-/var/cache/vmrt}/oci-validation/KEY
# holds validation/NAME (one binary per validation/NAME/NAME.go, as upstream's
# Makefile builds them), runtimetest (static) and rootfs-ARCH.tar.gz (a
# busybox rootfs from Debian's busybox-static). KEY hashes the Debian versions
# of every input package and this directory's files; a complete cache entry is
# reused as it is, so running from a read-only root (tools/testvm) works.
#
# The runtime-tools source comes from the first of:
#   OCI_RUNTIME_TOOLS_SRC=DIR   a source tree, or a git repository from which
#                               the upstream commit named by the Debian
#                               package's version is taken;
#   the installed Debian package, if it ships validation/ and cmd/runtimetest;
#   Debian's source package of that version (apt-get source, with deb-src
#   twins of this machine's deb entries).
# Only the suite's own code is taken from it: its Go dependencies are Debian's
# golang-*-dev packages (GOPATH mode, no modules, no network), and the TAP
# producer it imports (not packaged by Debian) is tap/tap.go beside this file.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${VMRT_CACHE_DIR:-/var/cache/vmrt}/oci-validation
import_path=github.com/opencontainers/runtime-tools
tools_pkg=golang-github-opencontainers-runtime-tools-dev
# Debian packages the build reads: Go, the suite's Go dependencies, busybox.
packages=(
  golang-go "$tools_pkg" busybox-static
  golang-github-google-uuid-dev golang-github-hashicorp-go-multierror-dev
  golang-github-mrunalp-fileutils-dev golang-github-opencontainers-specs-dev
  golang-github-opencontainers-selinux-dev golang-github-sirupsen-logrus-dev
  golang-github-urfave-cli-dev golang-github-xeipuuv-gojsonschema-dev
  golang-github-blang-semver-dev golang-gocapability-dev golang-golang-x-sys-dev
)

die() { echo "oci-validation/build.sh: $*" >&2; exit 1; }
log() { echo "oci-validation/build.sh: $*" >&2; }

versions=""
missing=()
for p in "${packages[@]}"; do
  if v=$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null) && [[ "$v" == "install ok installed "* ]]; then
    versions+="$p ${v##* }"$'\n'
  else
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] || die "missing Debian packages: ${missing[*]} (run tools/setup.sh, or apt-get install them)"

key=$( { printf '%s' "$versions"; cat "$here/build.sh" "$here/tap/tap.go"; } | sha256sum | cut -c1-16)
out=$cache_root/$key
if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi

if ! mkdir -p "$cache_root" 2>/dev/null || [ ! -w "$cache_root" ]; then
  die "no complete build at $out and $cache_root is not writable (build on the host first)"
fi
exec 9>"$cache_root/.lock"
flock 9
if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi

tmp=$(mktemp -d "$cache_root/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
gopath=$tmp/gopath
src=$gopath/src/$import_path
mkdir -p "$src" "$tmp/out/validation"

tools_version=$(dpkg-query -W -f='${Version}' "$tools_pkg")
tools_source=$(dpkg-query -W -f='${source:Package}' "$tools_pkg")
installed=/usr/share/gocode/src/$import_path
# The upstream commit a snapshot version names (0.9.0+git20220423.g0105384-2),
# else the release tag (0.9.0+dfsg-1 -> v0.9.0).
upstream_rev() {
  local v=${tools_version#*:}
  if [[ "$v" =~ \.g([0-9a-f]{7,40}) ]]; then
    echo "${BASH_REMATCH[1]}"
  else
    v=${v%-*}
    echo "v${v%%[+~]*}"
  fi
}

# Debian's source package, fetched with apt from deb-src twins of this
# machine's deb entries, into a private list and state directory.
debian_source() {
  local apt=$tmp/apt f
  mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/get"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^deb\([[:space:]]\)/deb-src\1/p' "$f"
  done >"$apt/parts/debian-src.list"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" >"$apt/parts/$(basename "$f")"
  done
  local opts=(-q -o "Dir::Etc::SourceList=$apt/parts/debian-src.list" -o "Dir::Etc::SourceParts=$apt/parts"
    -o "Dir::State::Lists=$apt/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
    -o APT::Sandbox::User=root)
  log "fetching Debian source package $tools_source $tools_version"
  apt-get "${opts[@]}" update >"$apt/update.log" 2>&1 || true
  if ! (cd "$apt/get" && apt-get "${opts[@]}" source --download-only "$tools_source=$tools_version") >"$apt/source.log" 2>&1; then
    cat "$apt/source.log" >&2
    return 1
  fi
  rmdir "$src"
  dpkg-source -x "$apt"/get/*.dsc "$src" >/dev/null
}

if [ -n "${OCI_RUNTIME_TOOLS_SRC:-}" ]; then
  [ -d "$OCI_RUNTIME_TOOLS_SRC" ] || die "OCI_RUNTIME_TOOLS_SRC=$OCI_RUNTIME_TOOLS_SRC is not a directory"
  if git -C "$OCI_RUNTIME_TOOLS_SRC" rev-parse --git-dir >/dev/null 2>&1; then
    rev=$(upstream_rev)
    log "taking runtime-tools $rev (Debian $tools_version) from $OCI_RUNTIME_TOOLS_SRC"
    git -C "$OCI_RUNTIME_TOOLS_SRC" archive --format=tar "$rev" | tar -x -C "$src"
    echo "git $rev" >"$tmp/out/SOURCE"
  else
    log "taking runtime-tools from $OCI_RUNTIME_TOOLS_SRC (expected to match Debian $tools_version)"
    cp -a "$OCI_RUNTIME_TOOLS_SRC/." "$src/"
    echo "directory" >"$tmp/out/SOURCE"
  fi
elif [ -d "$installed/validation" ] && [ -d "$installed/cmd/runtimetest" ]; then
  cp -a "$installed/." "$src/"
  echo "installed $tools_pkg" >"$tmp/out/SOURCE"
elif debian_source; then
  echo "Debian source $tools_source" >"$tmp/out/SOURCE"
else
  die "no runtime-tools source: Debian's $tools_pkg ships no validation/ and its source package could not be fetched; set OCI_RUNTIME_TOOLS_SRC to a runtime-tools git repository or source tree"
fi
echo "Debian $tools_version" >>"$tmp/out/SOURCE"
if [ ! -d "$src/validation" ] || [ ! -d "$src/cmd/runtimetest" ]; then
  die "the runtime-tools source has no validation/ or cmd/runtimetest"
fi
# Build against Debian's Go packages only.
rm -rf "$src/vendor" "$src/go.mod" "$src/go.sum"
mkdir -p "$gopath/src/github.com/mndrix/tap-go"
cp "$here/tap/tap.go" "$gopath/src/github.com/mndrix/tap-go/"

version=$(cat "$src/VERSION" 2>/dev/null || echo unknown)
ldflags="-s -w -X main.version=$version -X main.gitCommit=debian-$tools_version"
export GO111MODULE=off GOPATH=$gopath:/usr/share/gocode GOCACHE=$tmp/gocache GOFLAGS='' CGO_ENABLED=0
mains=()
for f in "$src"/validation/*/*.go; do
  name=$(basename "$(dirname "$f")")
  [ "$(basename "$f" .go)" = "$name" ] && mains+=("./validation/$name")
done
[ ${#mains[@]} -gt 0 ] || die "no validation/NAME/NAME.go in the runtime-tools source"
log "building ${#mains[@]} validation binaries and runtimetest (Debian $tools_version)"
(
  cd "$src"
  go build -trimpath -ldflags "$ldflags" -o "$tmp/out/validation/" "${mains[@]}"
  go build -trimpath -tags "netgo osusergo" -ldflags "$ldflags" -o "$tmp/out/runtimetest" ./cmd/runtimetest
)

# The bundle rootfs the suite unpacks: busybox with its applets in /bin.
rootfs=$tmp/rootfs
mkdir -p "$rootfs/bin" "$rootfs/dev" "$rootfs/proc" "$rootfs/sys" "$rootfs/etc" "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'daemon:x:1:1:daemon:/:/bin/false' \
  'nobody:x:65534:65534:nobody:/:/bin/false' >"$rootfs/etc/passwd"
printf '%s\n' 'root:x:0:' 'daemon:x:1:' 'tty:x:5:' 'wheel:x:10:root' 'users:x:100:' \
  'nogroup:x:65534:' >"$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"
tar -C "$rootfs" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - . |
  gzip -9n >"$tmp/out/rootfs-$(go env GOARCH).tar.gz"

printf '%s' "$versions" >"$tmp/out/PACKAGES"
touch "$tmp/out/.complete"
rm -rf "$out"
mv "$tmp/out" "$out"
log "built into $out"
echo "$out"
