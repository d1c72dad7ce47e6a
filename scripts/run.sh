#!/usr/bin/env bash
# The main job: set up, build, then boot the default TD image (built-in hello guest,
# built-in stub) on the default backend (unicorn) and print what happened.
# Extra arguments go to `tdsim run` (e.g. --vcpus 4, --backend kvm).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec build/cli/tdsim run "$@"
