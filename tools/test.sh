#!/usr/bin/env bash
# Runs the whole test suite from a clean checkout: setup (packages, build,
# guest kernel, rig bundle), then every ctest test (labels unit, root, kvm, rig)
# in the passes of tools/test_passes.sh, which ends with one summary line per
# label.
#
#   tools/test.sh                         the whole suite, as CI runs it
#   tools/test.sh [ctest selection...]    e.g. tools/test.sh -L kvm, -R '^rig\.vsock'
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/tools/setup.sh" --no-example
exec "$repo/tools/test_passes.sh" "$repo/build" "$@"
