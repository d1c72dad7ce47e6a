#!/usr/bin/env bash
# Configures and builds tdsim into ${BUILD_DIR:-build} (extra cmake -D options as arguments);
# BUILD_TARGET limits the build to one target (the fuzz tree builds only tdsim_fuzzers).
set -euo pipefail
cd "$(dirname "$0")/.."
"$PWD/scripts/install-deps.sh"
build_dir="${BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
