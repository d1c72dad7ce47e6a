#!/bin/sh
# Runs the benches that measure tdsim against a bare engine (and bare KVM) in the same
# process, and one bare engine per vCPU against one for all, pinned to one CPU, REPEATS
# times each, and prints every run's lines followed by the median of each figure.
# Usage: bench/run.sh [BUILD_DIR] [CPU] [REPEATS]
# BUILD_DIR defaults to build-rel (configure it with -DCMAKE_BUILD_TYPE=RelWithDebInfo;
# a Debug build measures the compiler's -O0, not tdsim). Exit: 0, 64 usage, 70 a bench failed.
set -eu
build=${1:-build-rel}
cpu=${2:-0}
repeats=${3:-3}
case $repeats in ''|*[!0-9]*) echo "run.sh: REPEATS must be a number" >&2; exit 64;; esac
[ -d "$build/bench" ] || { echo "run.sh: no $build/bench; build the bench targets first" >&2; exit 64; }
command -v taskset >/dev/null || { echo "run.sh: taskset not found (util-linux)" >&2; exit 64; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for b in sim/tdsim_engine_ratio_bench sim/tdsim_engine_share_bench kvm/tdsim_kvm_bench; do
  [ -x "$build/bench/$b" ] || { echo "run.sh: $build/bench/$b not built" >&2; exit 64; }
  i=1
  while [ "$i" -le "$repeats" ]; do
    echo "== $b, run $i of $repeats (CPU $cpu)"
    taskset -c "$cpu" "$build/bench/$b" | tee -a "$out" || { echo "run.sh: $b failed" >&2; exit 70; }
    i=$((i + 1))
  done
done
# Medians: lines that read the same once numbers and runs of blanks are masked are one figure;
# each number position gets the median over its runs.
echo "== medians of $repeats runs"
awk '
  { key = $0; gsub(/[0-9]+(\.[0-9]+)?/, "#", key); gsub(/[ \t]+/, " ", key)
    if (!(key in n)) order[++keys] = key
    n[key]++; line[key] = $0
    m = split($0, parts, /[^0-9.]+/); c = 0
    for (i = 1; i <= m; i++) if (parts[i] ~ /^[0-9]+(\.[0-9]+)?$/) { c++; v[key, c, n[key]] = parts[i] }
    cnt[key] = c }
  function median(key, c,   k, a, i, j, t) {
    k = n[key]; for (i = 1; i <= k; i++) a[i] = v[key, c, i] + 0
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((k + 1) / 2)] }
  END {
    for (o = 1; o <= keys; o++) {
      key = order[o]; s = line[key]; res = ""; c = 0
      while (match(s, /[0-9]+(\.[0-9]+)?/)) {
        c++; num = substr(s, RSTART, RLENGTH); val = median(key, c)
        dec = index(num, ".") ? length(num) - index(num, ".") : 0
        res = res substr(s, 1, RSTART - 1) sprintf("%." dec "f", val); s = substr(s, RSTART + RLENGTH)
      }
      print res s
    }
  }' "$out"
