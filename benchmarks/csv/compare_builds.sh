#!/usr/bin/env bash
# Parse speed of two builds of the CSV reader, side by side in one run: each round runs the
# "before" and the "after" bench_csv_parse on each file in turn, so load from other jobs on the
# machine falls on both alike. Prints one JSON line per run; compare median_cpu_s (CPU seconds
# of a parse, all threads) first on a shared machine, then median_s.
#
#   benchmarks/csv/compare_builds.sh BEFORE_BIN AFTER_BIN [ROUNDS] [THREADS] FILE...
#
# The files are benchmarks/csv/bench_csv.py's (it generates them under benchmarks/data/).
set -euo pipefail
before=$1 after=$2 rounds=${3:-3} threads=${4:-1}
shift 4
for ((r = 1; r <= rounds; ++r)); do
  for file in "$@"; do
    for side in before after; do
      bin=$before
      [[ $side == after ]] && bin=$after
      printf '{"round": %d, "build": "%s", "result": %s}\n' "$r" "$side" \
        "$("$bin" "$file" --repeat 3 --threads "$threads")"
    done
  done
done
