#!/usr/bin/env bash
# The main job: set up, build, then boot the default TD image (built-in hello guest,
# built-in stub) on the default backend (unicorn) and print what happened.
# Extra arguments go to `tdsim run` (e.g. --vcpus 4, --backend kvm).
set -euo pipefail
cd "$(dirname "$0")/.."
# Only the tdsim command and what it links: the tests, benchmarks and their guests are
# scripts/test.sh's business, and building them first would dominate a fresh machine's
# first run.
BUILD_TARGET=tdsim scripts/build.sh
exec build/cli/tdsim run "$@"
