#!/usr/bin/env bash
# End-to-end: train / predict / inspect / transform / score on real files, and every refusal
# (bad model file, mismatched columns, bad target) with a clear message and nothing written.
# Usage: train_predict_test.sh TABULA_BINARY SOURCE_DIR
set -u
TABULA=$1
SRC=$2
source "$(dirname "$0")/lib.sh"
BC=$SRC/data/breast_cancer.csv
REG=$SRC/tests/data/regression_small.csv

# ---- classification with the baseline model on breast_cancer -----------------------------
if [ -f "$BC" ]; then
  expect_ok train_bc "$TABULA" train --data "$BC" --target target --model dummy --seed 3 \
    --out "$WORK/bc.tbl"
  expect_contains "$WORK/out.txt" "accuracy"
  expect_contains "$WORK/out.txt" "dummy (prior)"
  expect_contains "$WORK/out.txt" "test set: 114 of 569 rows"
  expect_ok inspect_bc "$TABULA" inspect "$WORK/bc.tbl"
  expect_contains "$WORK/out.txt" "classes:    0, 1"
  expect_contains "$WORK/out.txt" "worst fractal dimension"
  expect_contains "$WORK/out.txt" "data_fingerprint"
  expect_ok inspect_json "$TABULA" inspect "$WORK/bc.tbl" --json
  expect_contains "$WORK/out.txt" '"kind": "dummy"'
  expect_contains "$WORK/out.txt" '"rows_test": 114'

  expect_ok predict_bc "$TABULA" predict --model "$WORK/bc.tbl" --data "$BC" --out "$WORK/p.csv"
  [ "$(head -1 "$WORK/p.csv")" = "prediction" ] || fail "predict header: $(head -1 "$WORK/p.csv")"
  [ "$(wc -l <"$WORK/p.csv")" -eq 570 ] || fail "predict rows: $(wc -l <"$WORK/p.csv")"
  # The prior baseline predicts the majority class, label 1 (357 of 569).
  [ "$(tail -n +2 "$WORK/p.csv" | sort -u)" = "1" ] || fail "prior predictions are not all 1"
  expect_contains "$WORK/err.txt" "ignored 1 column(s) the model does not use: 'target'"

  expect_ok predict_proba "$TABULA" predict --model "$WORK/bc.tbl" --data "$BC" \
    --out "$WORK/pp.csv" --proba
  [ "$(head -1 "$WORK/pp.csv")" = "proba_0,proba_1" ] || fail "proba header"
  [ "$(wc -l <"$WORK/pp.csv")" -eq 570 ] || fail "proba rows"

  # Reordered columns are matched by name: same predictions.
  cut -d, -f2- "$BC" | paste -d, - <(cut -d, -f1 "$BC") >"$WORK/reordered.csv"
  expect_ok predict_reordered "$TABULA" predict --model "$WORK/bc.tbl" \
    --data "$WORK/reordered.csv" --out "$WORK/pr.csv" --proba
  cmp -s "$WORK/pp.csv" "$WORK/pr.csv" || fail "reordered columns changed the predictions"

  # Missing columns: named, nothing written, an existing output untouched.
  cut -d, -f3- "$BC" >"$WORK/missing.csv"
  expect_error missing_columns "missing 2 column(s) the model needs: 'mean radius', 'mean texture'" \
    "$TABULA" predict --model "$WORK/bc.tbl" --data "$WORK/missing.csv" --out "$WORK/m.csv"
  expect_absent "$WORK/m.csv"
  echo keep >"$WORK/keep.csv"
  expect_error missing_keeps_old "missing" \
    "$TABULA" predict --model "$WORK/bc.tbl" --data "$WORK/missing.csv" --out "$WORK/keep.csv"
  [ "$(cat "$WORK/keep.csv")" = "keep" ] || fail "a failed predict changed an existing output"

  # Damaged and foreign model files.
  expect_error not_a_model "not a tabula model artifact" \
    "$TABULA" predict --model "$BC" --data "$BC" --out "$WORK/x.csv"
  expect_absent "$WORK/x.csv"
  head -c 500 "$WORK/bc.tbl" >"$WORK/truncated.tbl"
  expect_error truncated "truncated" \
    "$TABULA" predict --model "$WORK/truncated.tbl" --data "$BC" --out "$WORK/x.csv"
  expect_absent "$WORK/x.csv"
  cp "$WORK/bc.tbl" "$WORK/corrupt.tbl"
  size=$(stat -c %s "$WORK/corrupt.tbl")
  printf '\x7f' | dd of="$WORK/corrupt.tbl" bs=1 seek=$((size - 12)) conv=notrunc 2>/dev/null
  expect_error corrupted "checksum mismatch" \
    "$TABULA" predict --model "$WORK/corrupt.tbl" --data "$BC" --out "$WORK/x.csv"
  expect_absent "$WORK/x.csv"
  expect_error transform_of_classifier "use \`tabula predict\`" \
    "$TABULA" transform --model "$WORK/bc.tbl" --data "$BC" --out "$WORK/x.csv"
  expect_absent "$WORK/x.csv"

  # Bad training input: nothing written.
  expect_error unknown_model "unknown model 'nope' (known:" \
    "$TABULA" train --data "$BC" --target target --model nope --out "$WORK/n.tbl"
  expect_error missing_target "target" \
    "$TABULA" train --data "$BC" --target no_such --model dummy --out "$WORK/n.tbl"
  expect_error bad_param "strategy='median'" \
    "$TABULA" train --data "$BC" --target target --model dummy --param strategy=median \
    --out "$WORK/n.tbl"
  expect_absent "$WORK/n.tbl"
  awk -F, 'NR == 1 || NR % 5 != 0 { print; next } { $NF = ""; print }' OFS=, "$BC" \
    >"$WORK/nan_target.csv"
  expect_error nan_target "target column 'target' has 114 missing value(s)" \
    "$TABULA" train --data "$WORK/nan_target.csv" --target target --model dummy \
    --out "$WORK/n.tbl"
  expect_absent "$WORK/n.tbl"
  awk -F, 'NR == 1 { print; next } { $NF = 1; print }' OFS=, "$BC" >"$WORK/one_class.csv"
  expect_error single_class "holds a single class ('1')" \
    "$TABULA" train --data "$WORK/one_class.csv" --target target --model dummy \
    --task classification --out "$WORK/n.tbl"
  expect_absent "$WORK/n.tbl"

  # A class with a single row cannot be split in proportion: named by its label.
  awk -F, 'NR == 1 { print; next } NR == 2 { $NF = 7 } { print }' OFS=, "$BC" >"$WORK/rare.csv"
  expect_error rare_class "class '7' of target column 'target' has only 1 row" \
    "$TABULA" train --data "$WORK/rare.csv" --target target --model dummy --out "$WORK/n.tbl"
  expect_absent "$WORK/n.tbl"
fi

# ---- regression on the fixture --------------------------------------------------------------
expect_ok train_reg "$TABULA" train --data "$REG" --target y --model dummy \
  --param strategy=median --test-size 0.25 --seed 1 --out "$WORK/reg.tbl"
expect_contains "$WORK/out.txt" "regression"
expect_contains "$WORK/out.txt" "dummy (mean)"
expect_contains "$WORK/out.txt" "test set: 30 of 120 rows"
expect_contains "$WORK/out.txt" "rmse"
expect_ok predict_reg "$TABULA" predict --model "$WORK/reg.tbl" --data "$REG" --out "$WORK/r.csv"
[ "$(wc -l <"$WORK/r.csv")" -eq 121 ] || fail "regression prediction rows"
[ "$(tail -n +2 "$WORK/r.csv" | sort -u | wc -l)" -eq 1 ] || fail "median baseline not constant"
expect_error proba_on_regressor "--proba needs a classifier" \
  "$TABULA" predict --model "$WORK/reg.tbl" --data "$REG" --out "$WORK/x.csv" --proba
expect_absent "$WORK/x.csv"
# A numeric feature holding text at prediction time: the first such row is named (file, line,
# column, value).
sed '3s/^[^,]*/oops/' "$REG" >"$WORK/text_feature.csv"
expect_error text_feature "text_feature.csv:3: column 1 ('x1'): value 'oops' is not a number" \
  "$TABULA" predict --model "$WORK/reg.tbl" --data "$WORK/text_feature.csv" --out "$WORK/x.csv"
expect_absent "$WORK/x.csv"
expect_error regression_as_classification "continuous values" \
  "$TABULA" train --data "$REG" --target y --model dummy --task classification \
  --out "$WORK/n.tbl"
# A categorical feature is one-hot encoded by the default pipeline (docs/pipelines.md).
{ echo "x1,city,y"; for i in 1 2 3 4 5 6 7 8 9 10; do echo "$i,c$((i % 3)),$((i * 2)).5"; done; } \
  >"$WORK/categorical.csv"
expect_ok categorical_feature \
  "$TABULA" train --data "$WORK/categorical.csv" --target y --model dummy --out "$WORK/c.tbl"
expect_ok inspect_categorical "$TABULA" inspect "$WORK/c.tbl"
expect_contains "$WORK/out.txt" "OneHotEncoder"

# ---- transform (pca) -------------------------------------------------------------------------
expect_ok train_pca "$TABULA" train --data "$REG" --target y --model pca --param n_components=2 \
  --out "$WORK/pca.tbl"
expect_ok transform "$TABULA" transform --model "$WORK/pca.tbl" --data "$REG" --out "$WORK/t.csv"
[ "$(head -1 "$WORK/t.csv")" = "pc1,pc2" ] || fail "transform header: $(head -1 "$WORK/t.csv")"
[ "$(wc -l <"$WORK/t.csv")" -eq 121 ] || fail "transform rows"
expect_error predict_with_pca "use \`tabula transform\`" \
  "$TABULA" predict --model "$WORK/pca.tbl" --data "$REG" --out "$WORK/x.csv"
expect_absent "$WORK/x.csv"
expect_ok inspect_pca "$TABULA" inspect "$WORK/pca.tbl"
expect_contains "$WORK/out.txt" "model:      pca (transform)"

# ---- column roles: --id and --drop -----------------------------------------------------------
# The id column is never a feature, the model names it, and predict copies it unless told which
# column to copy; --drop is --drop-columns' short name; describe shows both roles.
T=$SRC/data/titanic.csv
expect_ok train_id "$TABULA" train --data "$T" --target survived --model forest --seed 2 \
  --id name --drop passengerClass --out "$WORK/id.tbl"
expect_ok inspect_id "$TABULA" inspect "$WORK/id.tbl" --json
expect_contains "$WORK/out.txt" '"id_column": "name"'
python3 -c "
import json, sys
d = json.load(open('$WORK/out.txt'))
names = [f['name'] for f in d['schema']['features']]
assert names == ['sex', 'age'], names" || fail "--id/--drop: the features are not sex, age"
expect_ok predict_id "$TABULA" predict --model "$WORK/id.tbl" --data "$T" --out "$WORK/id.csv"
expect_contains "$WORK/err.txt" "copied the model's id column 'name'"
[ "$(head -1 "$WORK/id.csv")" = "name,prediction" ] || fail "id output: $(head -1 "$WORK/id.csv")"
[ "$(sed -n 2p "$WORK/id.csv" | cut -d'"' -f2)" = "$(sed -n 2p "$T" | cut -d'"' -f2)" ] ||
  fail "id output: row 1 is not the file's first name"
expect_ok predict_id_other "$TABULA" predict --model "$WORK/id.tbl" --data "$T" \
  --id passengerClass --out "$WORK/id2.csv"
[ "$(head -1 "$WORK/id2.csv")" = "passengerClass,prediction" ] || fail "--id on predict"
python3 -c "
import csv
rows = list(csv.reader(open('$T')))
with open('$WORK/noid.csv', 'w', newline='') as f:
    csv.writer(f).writerows([r[1:] for r in rows])"
expect_ok predict_no_id "$TABULA" predict --model "$WORK/id.tbl" --data "$WORK/noid.csv" \
  --out "$WORK/id3.csv"
expect_contains "$WORK/err.txt" "the input has no column 'name'"
[ "$(head -1 "$WORK/id3.csv")" = "prediction" ] || fail "no id column: $(head -1 "$WORK/id3.csv")"
expect_error id_is_target "--id: 'survived' is the target column" "$TABULA" train --data "$T" \
  --target survived --model forest --id survived --out "$WORK/never.tbl"
expect_error id_missing "--id: no column 'nope'" "$TABULA" train --data "$T" \
  --target survived --model forest --id nope --out "$WORK/never.tbl"
expect_absent "$WORK/never.tbl"
expect_ok describe_roles "$TABULA" describe --data "$T" --target survived --id name \
  --drop passengerClass --json
python3 -c "
import json
roles = {c['name']: c['role'] for c in json.load(open('$WORK/out.txt'))['columns']}
assert roles == {'name': 'id', 'sex': 'feature', 'age': 'feature', 'passengerClass': 'dropped',
                 'survived': 'target'}, roles" || fail "describe roles"
expect_error describe_id_missing "--id: no column 'nope'" "$TABULA" describe --data "$T" --id nope
expect_ok tune_id "$TABULA" tune --data "$T" --target survived --model logistic --id name \
  --drop passengerClass --param 'C=[0.1,1]' --folds 2 --no-progress --out "$WORK/tune_id"
expect_ok inspect_tuned "$TABULA" inspect "$WORK/tune_id/model.tabula" --json
expect_contains "$WORK/out.txt" '"id_column": "name"'

# ---- score --------------------------------------------------------------------------------
printf 'y\n0\n0\n1\n1\n' >"$WORK/yt.csv"
printf 'p0,p1\n0.9,0.1\n0.6,0.4\n0.65,0.35\n0.2,0.8\n' >"$WORK/proba.csv"
expect_ok score_auc "$TABULA" score --y-true "$WORK/yt.csv" --proba "$WORK/proba.csv" \
  --metric roc_auc
[ "$(cat "$WORK/out.txt")" = "0.75" ] || fail "score roc_auc: $(cat "$WORK/out.txt")"
expect_error score_unknown "unknown metric 'auc'" \
  "$TABULA" score --y-true "$WORK/yt.csv" --y-pred "$WORK/yt.csv" --metric auc

finish train_predict_test
