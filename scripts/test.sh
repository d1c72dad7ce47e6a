#!/usr/bin/env bash
# Sets up, builds and runs every test, three times over:
#   build/       g++, the whole suite (KVM tests skip, saying why, where /dev/kvm is
#                unusable; TDX tests skip, saying why, on hosts without TDX);
#   build-asan/  g++ with ASan+UBSan, the whole suite;
#   build-clang/ clang++ (proves both compilers build everything), the whole suite;
#   build-fuzz/  clang++ libFuzzer harnesses, short fixed-time runs (docs/reliability.md).
# TDSIM_QUICK=1 stops after the first pass. Ends with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
skipped=0
# run_suite DIR [ctest args...]: runs ctest in DIR and adds its counts to the totals.
run_suite() {
  local dir=$1 log rc=0
  shift
  log=$(mktemp)
  (cd "$dir" && ctest --output-on-failure -j"$(nproc)" --timeout 900 "$@") 2>&1 | tee "$log" || rc=$?
  local line total bad skip
  line=$(grep -E '[0-9]+ tests failed out of [0-9]+' "$log" | tail -1 || true)
  # ctest counts a skipped test as not failed; a skip is never reported as a pass.
  skip=$(grep -cE '^[[:space:]]*[0-9]+ - .*\(Skipped\)' "$log" || true)
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "test.sh: ctest in $dir printed no summary"
    failed=$((failed + 1))
    return
  fi
  bad=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  if [ "$skip" -gt 0 ] && [ -f "$dir/Testing/Temporary/LastTest.log" ]; then
    echo "test.sh: $skip test(s) skipped in $dir, each with its reason:"
    grep -A1 ': Skipped$' "$dir/Testing/Temporary/LastTest.log" | grep -v -- '^--$' | sed 's/^/  /' || true
  fi
  passed=$((passed + total - bad - skip))
  failed=$((failed + bad))
  skipped=$((skipped + skip))
  [ "$rc" -eq 0 ] || [ "$bad" -gt 0 ] || failed=$((failed + 1))
}

finish() {
  echo "test.sh: all passes: $passed passed, $failed failed, $skipped skipped (each skip says why above)"
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
}

scripts/build.sh
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  echo "test.sh: /dev/kvm is usable: KVM backend tests run for real"
else
  echo "test.sh: /dev/kvm is missing or not accessible: KVM backend tests will be SKIPPED (not passed)"
fi
echo "test.sh: pass 1: g++ build"
run_suite build
if [ "${TDSIM_QUICK:-0}" = 1 ]; then finish; exit; fi

echo "test.sh: pass 2: the whole suite under ASan+UBSan (build-asan)"
BUILD_DIR=build-asan scripts/build.sh -DTDSIM_SANITIZE=ON -DTDSIM_BUILD_BENCH=OFF
# Leak reports are suppressed only inside third-party libraries (the file says which).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
run_suite build-asan
unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS

echo "test.sh: pass 3: clang++ build, the whole suite (build-clang)"
BUILD_DIR=build-clang scripts/build.sh -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
run_suite build-clang

echo "test.sh: pass 4: libFuzzer harnesses, short runs (build-fuzz)"
# This tree instruments the libraries for fuzzing, so it builds only the harnesses.
BUILD_DIR=build-fuzz BUILD_TARGET=tdsim_fuzzers scripts/build.sh -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DTDSIM_FUZZ=ON -DTDSIM_BUILD_BENCH=OFF
run_suite build-fuzz -L fuzz
finish
