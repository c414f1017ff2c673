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
# Both reports name the refitted best model's features, largest magnitude first.
python3 - "$WORK/a/leaderboard.json" <<'PY' || fail "best_features (ridge): wrong"
import json, sys
ranked = json.load(open(sys.argv[1]))["best_features"]["coef_"]
names = [t["feature"] for t in ranked["top"]]
sizes = [abs(t["value"]) for t in ranked["top"]]
assert sorted(names) == ["x1", "x2", "x3"] and ranked["n_features"] == 3, ranked
assert sizes == sorted(sizes, reverse=True) and sizes[-1] < sizes[0], ranked
PY
# A text column's one-hot outputs are named after its values: the forest's top feature here is
# city=Paris (the target moves by 10 on it, by at most 1 on x).
awk 'BEGIN { srand(7); print "city,x,y"; split("Paris Rome Oslo", c, " ");
  for (i = 0; i < 300; i++) { k = 1 + i % 3; x = rand(); print c[k] "," x "," (k == 1 ? 10 : 0) + x } }' \
  >"$WORK/cities.csv"
expect_ok forest-names "$TABULA" tune --data "$WORK/cities.csv" --target y --no-progress \
  --model forest-regressor --param 'max_depth=[3]' --param 'n_estimators=[8]' --out "$WORK/f"
python3 - "$WORK/f/leaderboard.json" <<'PY' || fail "best_features (forest): wrong"
import json, sys
ranked = json.load(open(sys.argv[1]))["best_features"]["feature_importances_"]
assert ranked["top"][0]["feature"] == "city=Paris", ranked
assert {t["feature"] for t in ranked["top"]} >= {"city=Paris", "x"}, ranked
PY
grep -q "feature_importances_ by feature" "$WORK/f/report.html" || fail "report.html: no feature table"
grep -q "<td style='text-align:left'>city=Paris</td>" "$WORK/f/report.html" ||
  fail "report.html: city=Paris not named"
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
