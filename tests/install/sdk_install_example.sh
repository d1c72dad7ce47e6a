#!/usr/bin/env bash
# sdk_install_example.sh BUILD_DIR SOURCE_DIR VERSION CC CXX (ctest: sdk_install_example)
# Installs BUILD_DIR into a fresh prefix and uses it only through that prefix:
#   1. bin/tdsim --version prints VERSION;
#   2. every installed header compiles on its own (host headers as C++20; the ABI and
#      guest-runtime headers also as freestanding C11);
#   3. a host program compiles and links with nothing but `pkg-config tdsim`;
#   4. a C guest builds by hand from pkg-config's guest variables, lints clean and (where
#      /dev/kvm is usable) runs to DONE with the installed tdsim;
#   5. examples/sdk-project configures, builds (C guest, stub, GoogleTest) and passes.
set -euo pipefail
build_dir=$1 src_dir=$2 version=$3 cc=$4 cxx=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
jobs=$(nproc)

echo "== install into $prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log"
grep -c '^-- Installing' "$work/install.log" | sed 's/^/installed files: /'

echo "== tdsim --version"
got=$("$prefix/bin/tdsim" --version)
[ "$got" = "tdsim $version" ] || { echo "expected 'tdsim $version', got '$got'"; exit 1; }

echo "== headers stand alone"
inc=$prefix/include
check_header() {  # check_header LANG FLAGS... -- HEADER
  local lang=$1; shift
  local flags=()
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  local h=$2
  local compiler=$cxx
  [ "$lang" = c ] && compiler=$cc
  printf '#include "%s"\n' "$h" | "$compiler" -x "$lang" "${flags[@]}" -I"$inc" -I"$inc/tdsim" \
    -fsyntax-only - 2>"$work/err.$$.$RANDOM" || { echo "FAIL ($lang): $h"; return 1; }
}
export -f check_header
export cc cxx inc work
host_flags="-std=c++20 -Wall -Wextra -Werror $(pkg-config --cflags unicorn capstone libelf)"
(cd "$inc/tdsim" && find . -name '*.h' ! -path './ucall/guest/*' ! -path './stub/*' | sed 's|^\./||') >"$work/host_headers"
(cd "$inc/tdsim" && find abi ucall/guest -name '*.h') >"$work/guest_headers"
# tdcall_c.h is the C spelling only (it refuses C++ on purpose).
grep -v 'tdcall_c.h$' "$work/guest_headers" >"$work/guest_headers_cxx"
fail=0
xargs -P "$jobs" -I{} bash -c "check_header c++ $host_flags -- {}" <"$work/host_headers" || fail=1
guest="-ffreestanding -Wall -Wextra -Werror -mno-sse -mno-sse2 -mno-mmx -mno-80387"
xargs -P "$jobs" -I{} bash -c "check_header c -std=c11 $guest -- {}" <"$work/guest_headers" || fail=1
xargs -P "$jobs" -I{} bash -c "check_header c++ -std=c++20 $guest -- {}" <"$work/guest_headers_cxx" || fail=1
[ "$fail" = 0 ] || { cat "$work"/err.* ; exit 1; }
echo "$(wc -l <"$work/host_headers") host headers, $(wc -l <"$work/guest_headers") ABI/guest headers: ok"

echo "== pkg-config tdsim"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
cat >"$work/pc.cc" <<'CC'
#include "bootstub/host/image_builder.h"
#include "core/event.h"
int main() {
  tdsim::LayoutSpec spec;  // no guest ELF: build_image must name the field
  try {
    tdsim::build_image(spec);
  } catch (const tdsim::LayoutError& e) {
    return e.field().rfind("guest_elf", 0) == 0 ? 0 : 1;
  }
  return 1;
}
CC
"$cxx" -std=c++20 "$work/pc.cc" -o "$work/pc" $(pkg-config --cflags --libs tdsim)
# The host library is archives only: never the preload library of the same name, which
# would replace the program's open and ioctl.
if readelf -d "$work/pc" | grep -q 'libtdsim_kvm'; then
  echo "pkg-config's flags linked libtdsim_kvm.so (the preload library) into a host program" >&2
  exit 1
fi
"$work/pc"
echo "linked and ran with pkg-config's flags: ok"

echo "== a C guest built by hand from pkg-config's variables (docs/writing-a-guest.md)"
runtime=$(pkg-config --variable=guest_runtime tdsim)
ldscript=$(pkg-config --variable=guest_ldscript tdsim)
"$cc" -std=c11 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fcf-protection=none \
  -fno-asynchronous-unwind-tables -fno-unwind-tables -mno-red-zone -mno-sse -mno-sse2 -mno-mmx \
  -mno-80387 -mcmodel=small -O2 -I"$inc" -I"$inc/tdsim" \
  -c "$src_dir/examples/sdk-project/guest/example.c" -o "$work/hand.o"
nopie=-no-pie
"$cc" --version | grep -q clang && nopie=
"$cc" -nostdlib -nostartfiles -static $nopie -Wl,-T,"$ldscript" -Wl,--build-id=none \
  -Wl,-z,max-page-size=4096 "$work/hand.o" "$runtime" -o "$work/hand.elf"
"$prefix/bin/tdsim" lint --guest "$work/hand.elf"
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  "$prefix/bin/tdsim" run --backend kvm --guest "$work/hand.elf" | tee "$work/hand.out"
  grep -q "hello from C on vCPU 0 of 1" "$work/hand.out"
else
  echo "(not run: /dev/kvm is not usable here; the example project below runs its guest on Unicorn)"
fi

echo "== examples/sdk-project against the prefix"
cmake -S "$src_dir/examples/sdk-project" -B "$work/sdk" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/configure.log" ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$work/sdk" -j"$jobs"
ctest --test-dir "$work/sdk" --output-on-failure
