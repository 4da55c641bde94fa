#!/usr/bin/env bash
# The example: a busybox OCI bundle made from scratch and run with
# `vmrt run` in its own micro-VM. Where this host's KVM cannot boot a guest
# (a paravirtual KVM, or no VMX/SVM), it runs inside tools/testvm instead.
#
#   tools/example.sh [VMRT]      (as root; VMRT defaults to the one on PATH)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
vmrt=${1:-$(command -v vmrt || echo "$repo/build/tools/vmrt/vmrt")}
[ -x "$vmrt" ] || { echo "example.sh: no vmrt binary at $vmrt (build first)" >&2; exit 1; }

. "$repo/tools/rig/host_kvm.sh"
run_here_if_guests_boot VMRT_EXAMPLE_INSIDE --timeout 600 -- "$0" "$vmrt"

bundle=$(mktemp -d "${TMPDIR:-/tmp}/vmrt-example.XXXXXX")
trap 'rm -rf --one-file-system "$bundle"' EXIT
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/"
for applet in sh echo uname hostname; do ln -s busybox "$bundle/rootfs/bin/$applet"; done
cd "$bundle"
"$vmrt" spec
# No terminal (so it runs without one too), and a command that shows where it
# runs: the guest's kernel, not the host's.
python3 - <<'PY'
import json
s = json.load(open("config.json"))
s["process"]["terminal"] = False
s["process"]["args"] = ["sh", "-c", "echo hello from $(hostname), kernel $(uname -r)"]
json.dump(s, open("config.json", "w"), indent=2)
PY
"$vmrt" run "example-$$"
