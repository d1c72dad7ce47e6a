#!/usr/bin/env bash
# Sets up, builds and runs every test. KVM tests skip, saying why, where /dev/kvm is
# unusable; TDX tests skip, saying why, on hosts without TDX.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  echo "test.sh: /dev/kvm is usable: KVM backend tests run for real"
else
  echo "test.sh: /dev/kvm is missing or not accessible: KVM backend tests will be SKIPPED (not passed)"
fi
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 600
