#!/usr/bin/env bash
# Installs the Debian (bookworm) packages tdsim builds and tests with. Idempotent:
# skips apt entirely when everything is already installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang binutils
  libunicorn-dev libcapstone-dev libelf-dev libssl-dev libfmt-dev nlohmann-json3-dev
  libboost-program-options-dev libgtest-dev libbenchmark-dev gdb
  libclang-rt-14-dev valgrind
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
