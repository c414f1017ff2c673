#!/usr/bin/env bash
# End-to-end: `tabula tune` writes its outputs and resumes from its journal; bad input (space,
# parameter, metric, scheme) fails with a clear message before any work and writes nothing.
# Usage: tune_test.sh TABULA_BINARY SOURCE_DIR
set -u
TABULA=$1
SRC=$2
source "$(dirname "$0")/lib.sh"
REG=$SRC/tests/data/regression_small.csv

# expect_refused NAME NEEDLE OUTDIR CMD...: fails, stderr has NEEDLE, OUTDIR holds no journal.
expect_refused() {
  local name=$1 needle=$2 out=$3
  shift 3
  expect_error "$name" "$needle" "$@"
  [ -e "$out/journal.jsonl" ] && fail "$name: wrote a journal"
}

BASE=(tune --data "$REG" --target y --no-progress)
expect_ok grid "$TABULA" "${BASE[@]}" --model ridge --param 'alpha=logspace(-2,2,5)' --out "$WORK/a"
for f in leaderboard.csv leaderboard.json report.html model.tabula journal.jsonl; do
  [ -s "$WORK/a/$f" ] || fail "grid: $f missing"
done
[ "$(wc -l <"$WORK/a/journal.jsonl")" -eq 5 ] || fail "grid: journal should hold 5 trials"
grep -q "ridge-stats" "$WORK/a/leaderboard.csv" || fail "grid: shared-statistics path not used"
# The same command again resumes every trial.
expect_ok resume "$TABULA" "${BASE[@]}" --model ridge --param 'alpha=logspace(-2,2,5)' --out "$WORK/a"
grep -q "5 resumed from the journal" "$WORK/out.txt" || fail "resume: $(cat "$WORK/out.txt")"
# The model it wrote predicts.
expect_ok predict "$TABULA" predict --model "$WORK/a/model.tabula" --data "$REG" --out "$WORK/p.csv"

expect_refused unknown-param "max_depth" "$WORK/b" \
  "$TABULA" "${BASE[@]}" --model ridge --param 'max_depth=[2,3]' --out "$WORK/b"
expect_refused empty-space "empty list" "$WORK/b" \
  "$TABULA" "${BASE[@]}" --model ridge --param 'alpha=[]' --out "$WORK/b"
expect_refused bad-function "unknown function" "$WORK/b" \
  "$TABULA" "${BASE[@]}" --model ridge --param 'alpha=gauss(0,1)' --out "$WORK/b"
expect_refused wrong-metric "classification metric" "$WORK/b" \
  "$TABULA" "${BASE[@]}" --model ridge --param 'alpha=[1]' --metric roc_auc --out "$WORK/b"
expect_refused unknown-metric "roc_auc" "$WORK/b" \
  "$TABULA" "${BASE[@]}" --model ridge --param 'alpha=[1]' --metric accuracyy --out "$WORK/b"
expect_refused too-many-folds "fewer rows than folds" "$WORK/b" \
  "$TABULA" "${BASE[@]}" --model ridge --param 'alpha=[1]' --folds 500 --out "$WORK/b"
expect_refused grid-of-distribution "use --search random" "$WORK/b" \
  "$TABULA" "${BASE[@]}" --model ridge --param 'alpha=loguniform(1e-3,1)' --out "$WORK/b"
expect_refused no-out "--out" "$WORK/b" \
  "$TABULA" "${BASE[@]}" --model ridge --param 'alpha=[1]'
expect_refused bad-spec-key "unknown key" "$WORK/b" \
  "$TABULA" tune --spec <(printf 'data = "x.csv"\nalhpa = 1\n') --out "$WORK/b"

finish tune_test
