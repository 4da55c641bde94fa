#!/usr/bin/env bash
# Runs the whole test suite from a clean checkout: setup (packages, build,
# guest kernel, rig bundle), then every ctest test (labels unit, root, kvm, rig).
#
#   tools/test.sh [ctest arguments...]     e.g. tools/test.sh -L unit
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/tools/setup.sh" --no-example
cd "$repo/build"
exec ctest --output-on-failure -j2 "$@"
