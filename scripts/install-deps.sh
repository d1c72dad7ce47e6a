#!/usr/bin/env bash
# Installs the Debian packages tdsim builds and tests with. Idempotent: skips apt
# entirely when everything is already installed.
#
# Unicorn must be >= 2.1 (docs/engine-quirks.md says why). Where the system's own suite
# has it, it comes from there; on bookworm (2.0.1) the two packages come from the
# trixie suite of the mirror this machine's apt is already configured with, read from
# its sources at run time. Nothing persistent in the apt configuration changes: the
# trixie index lives in a temporary directory that is removed afterwards.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang binutils
  libcapstone-dev libelf-dev libssl-dev libfmt-dev nlohmann-json3-dev
  libboost-program-options-dev libgtest-dev libbenchmark-dev gdb
  libclang-rt-14-dev valgrind python3 python3-jsonschema
  ovmf  # Debian's TDX-capable firmware: the real-firmware tests read its TDVF metadata
)
unicorn_min=2.1

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
at_least() { [ -n "$1" ] && dpkg --compare-versions "$1" ge "$2"; }

unicorn_ok=0
at_least "$(installed_version libunicorn-dev)" "$unicorn_min" && unicorn_ok=1

[ ${#missing[@]} -eq 0 ] && [ $unicorn_ok = 1 ] && exit 0

echo "install-deps: installing ${missing[*]:-}${missing[*]:+ }$([ $unicorn_ok = 1 ] || echo "libunicorn-dev>=$unicorn_min")"
$sudo apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
[ $unicorn_ok = 1 ] && exit 0

candidate=$(apt-cache policy libunicorn-dev | awk '/Candidate:/ {print $2}')
if at_least "$candidate" "$unicorn_min"; then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libunicorn-dev
  exit 0
fi

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
  echo "install-deps: Unicorn >= $unicorn_min is needed, this suite has ${candidate:-none}," \
    "and no Debian mirror was found in /etc/apt/sources.list{,.d} to fetch trixie's from" >&2
  exit 1
fi

tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$tmp/sources.list"
apt_tmp=(-o Dir::Etc::SourceList="$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o Dir::State::Lists="$tmp/lists" -o Dir::Cache::Archives="$tmp/archives")
echo "install-deps: fetching libunicorn2t64 and libunicorn-dev from trixie on the configured mirror"
$sudo apt-get "${apt_tmp[@]}" update -qq
(cd "$tmp" && $sudo apt-get "${apt_tmp[@]}" download libunicorn2t64 libunicorn-dev)
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  "$tmp"/libunicorn2t64_*.deb "$tmp"/libunicorn-dev_*.deb
at_least "$(installed_version libunicorn-dev)" "$unicorn_min" || {
  echo "install-deps: libunicorn-dev is still $(installed_version libunicorn-dev) after the trixie install" >&2
  exit 1
}
