#!/usr/bin/env bash
# Installs the Debian packages tdsim builds and tests with. Idempotent: skips apt
# entirely when everything is already in place.
#
# Two packages must be newer than bookworm has them. Where the system's own suite lacks
# the version, they come from the trixie suite of the mirror this machine's apt is
# already configured with, read from its sources at run time:
#  * Unicorn >= 2.1 (docs/engine-quirks.md says why);
#  * ovmf >= 2025.02, the TDX firmware `tdsim run --firmware` boots: bookworm's 2022.11
#    exposes RBP in its TDG.VP.VMCALLs, which a TD created by current KVM refuses, so it
#    cannot get past SEC (docs/firmware.md).
# Bookworm's OVMF.fd is kept apart, unpacked (not installed) at $bookworm_ovmf, for the
# tests that pin that limit (they skip without it). Nothing persistent in the apt
# configuration changes: the other suites' index lives in a temporary directory that is
# removed afterwards.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang binutils
  libcapstone-dev libelf-dev libssl-dev libfmt-dev nlohmann-json3-dev liblzma-dev
  libboost-program-options-dev libgtest-dev libbenchmark-dev gdb
  libclang-rt-14-dev valgrind python3 python3-jsonschema
  ovmf  # Debian's TDX-capable firmware (upgraded below where the suite's is too old)
)
unicorn_min=2.1
ovmf_min=2025.02
# Where the tests look for bookworm's firmware (tests/firmware/CMakeLists.txt names it too).
bookworm_ovmf=/var/cache/tdsim/ovmf-bookworm/OVMF.fd

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
candidate_version() { apt-cache policy "$1" | awk '/Candidate:/ {print $2}'; }
at_least() { [ -n "$1" ] && dpkg --compare-versions "$1" ge "$2"; }

unicorn_ok=0 ovmf_ok=0 bookworm_ok=0
at_least "$(installed_version libunicorn-dev)" "$unicorn_min" && unicorn_ok=1
at_least "$(installed_version ovmf)" "$ovmf_min" && ovmf_ok=1
[ -s "$bookworm_ovmf" ] && bookworm_ok=1

[ ${#missing[@]} -eq 0 ] && [ $unicorn_ok = 1 ] && [ $ovmf_ok = 1 ] && [ $bookworm_ok = 1 ] && exit 0

echo "install-deps: installing ${missing[*]:-}${missing[*]:+ }$([ $unicorn_ok = 1 ] || echo "libunicorn-dev>=$unicorn_min ")$([ $ovmf_ok = 1 ] || echo "ovmf>=$ovmf_min ")$([ $bookworm_ok = 1 ] || echo "bookworm's OVMF.fd")"
$sudo apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  at_least "$(installed_version ovmf)" "$ovmf_min" && ovmf_ok=1
fi

# What the system's own suite already has in a new enough version.
if [ $unicorn_ok = 0 ] && at_least "$(candidate_version libunicorn-dev)" "$unicorn_min"; then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libunicorn-dev
  unicorn_ok=1
fi
if [ $ovmf_ok = 0 ] && at_least "$(candidate_version ovmf)" "$ovmf_min"; then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends ovmf
  ovmf_ok=1
fi

# The rest comes from the mirror's other suites.
trixie_pkgs=()
[ $unicorn_ok = 1 ] || trixie_pkgs+=(libunicorn2t64 libunicorn-dev)
[ $ovmf_ok = 1 ] || trixie_pkgs+=(ovmf)
[ ${#trixie_pkgs[@]} -eq 0 ] && [ $bookworm_ok = 1 ] && exit 0

# The mirror of the system's own Debian suite: deb822 sources first, then one-line ones.
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -r "$f" ] || continue
  mirror=$(awk '/^URIs:/ {u=$2} /^Suites:/ && u != "" && $0 ~ /(bookworm|stable)([ \t]|$)/ {print u; exit}' "$f")
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" && $0 ~ / (bookworm|stable) / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }')
fi
if [ -z "$mirror" ]; then
  echo "install-deps: ${trixie_pkgs[*]:-}${trixie_pkgs[*]:+ from trixie }$([ $bookworm_ok = 1 ] || echo "(and bookworm's ovmf) ")" \
    "are needed, and no Debian mirror was found in /etc/apt/sources.list{,.d} to fetch them from" >&2
  exit 1
fi

tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/archives/partial" "$tmp/trixie" "$tmp/bookworm"
chmod 755 "$tmp/trixie" "$tmp/bookworm"
for suite in trixie bookworm; do
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main"
done >"$tmp/sources.list"
apt_tmp=(-o Dir::Etc::SourceList="$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o Dir::State::Lists="$tmp/lists" -o Dir::Cache::Archives="$tmp/archives")
$sudo apt-get "${apt_tmp[@]}" update -qq

if [ $bookworm_ok = 0 ]; then
  echo "install-deps: unpacking bookworm's ovmf into $(dirname "$bookworm_ovmf") (not installed)"
  (cd "$tmp/bookworm" && $sudo apt-get "${apt_tmp[@]}" download ovmf/bookworm)
  $sudo dpkg-deb -x "$tmp"/bookworm/ovmf_*.deb "$tmp/bookworm/root"
  $sudo install -D -m 644 "$tmp/bookworm/root/usr/share/ovmf/OVMF.fd" "$bookworm_ovmf.new"
  $sudo mv "$bookworm_ovmf.new" "$bookworm_ovmf"
fi

[ ${#trixie_pkgs[@]} -eq 0 ] && exit 0
echo "install-deps: fetching ${trixie_pkgs[*]} from trixie on the configured mirror"
(cd "$tmp/trixie" && $sudo apt-get "${apt_tmp[@]}" download "${trixie_pkgs[@]/%//trixie}")
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$tmp"/trixie/*.deb
at_least "$(installed_version libunicorn-dev)" "$unicorn_min" || {
  echo "install-deps: libunicorn-dev is still $(installed_version libunicorn-dev) after the trixie install" >&2
  exit 1
}
at_least "$(installed_version ovmf)" "$ovmf_min" || {
  echo "install-deps: ovmf is still $(installed_version ovmf) after the trixie install" >&2
  exit 1
}
