#!/usr/bin/env bash
# Pipelines end to end: a spec file and the train flags, inspect showing the pipeline, predict
# on raw columns (extra columns ignored, order free), and the refusals: a missing column, an
# unseen category under handle_unknown=error (column, row and value named), a bad spec key.
# Usage: pipeline_test.sh TABULA_BINARY SOURCE_DIR
set -u
TABULA=$1
SRC=$2
source "$(dirname "$0")/lib.sh"
TITANIC=$SRC/data/titanic.csv

# ---- the example spec on the real table ---------------------------------------------------
expect_ok train_spec "$TABULA" train --data "$TITANIC" --target survived --model logistic \
  --pipeline "$SRC/examples/pipeline.toml" --drop-columns name --seed 1 --out "$WORK/spec.tbl"
expect_contains "$WORK/out.txt" "roc_auc"
expect_ok inspect "$TABULA" inspect "$WORK/spec.tbl"
expect_contains "$WORK/out.txt" "pipeline:"
expect_contains "$WORK/out.txt" "OneHotEncoder(handle_unknown=infrequent_if_exist, min_frequency=10)"
expect_contains "$WORK/out.txt" "passengerClass"

# Raw columns in another order, an extra one, a category never seen in training.
printf 'passengerClass,extra,age,sex\n1st,x,30,female\n3rd,y,,male\n4th,z,5,female\n' >"$WORK/new.csv"
expect_ok predict "$TABULA" predict --model "$WORK/spec.tbl" --data "$WORK/new.csv" \
  --out "$WORK/pred.csv" --proba
[ "$(wc -l <"$WORK/pred.csv")" = 4 ] || fail "predict wrote $(wc -l <"$WORK/pred.csv") lines"

# ---- flags over the default, and the refusals ---------------------------------------------
expect_ok train_flags "$TABULA" train --data "$TITANIC" --target survived --model logistic \
  --handle-unknown error --scale minmax --impute mean --drop-columns name \
  --test-size 0 --out "$WORK/strict.tbl"
expect_ok inspect_flags "$TABULA" inspect "$WORK/strict.tbl"
expect_contains "$WORK/out.txt" "SimpleImputer(strategy=mean) > MinMaxScaler"
expect_error unseen_category "unseen category '4th'" \
  "$TABULA" predict --model "$WORK/strict.tbl" --data "$WORK/new.csv" --out "$WORK/never.csv"
expect_contains "$WORK/err.txt" "passengerClass"
[ ! -e "$WORK/never.csv" ] || fail "predict left an output behind after an error"
printf 'age,sex\n30,female\n' >"$WORK/short.csv"
expect_error missing_column "'passengerClass'" \
  "$TABULA" predict --model "$WORK/strict.tbl" --data "$WORK/short.csv" --out "$WORK/never.csv"
printf '[pipeline]\n[[pipeline.branches]]\ntype = "numeric"\nsteps = [ { kind = "StandardScaler", with_mena = false } ]\n' >"$WORK/bad.toml"
expect_error bad_spec "'with_mena'" "$TABULA" train --data "$TITANIC" --target survived \
  --model logistic --pipeline "$WORK/bad.toml" --out "$WORK/never.tbl"
expect_error bad_flag "--scale" "$TABULA" train --data "$TITANIC" --target survived \
  --model logistic --scale robust --out "$WORK/never.tbl"
expect_error drop_missing "no column 'nope'" "$TABULA" train --data "$TITANIC" \
  --target survived --model logistic --drop-columns nope --out "$WORK/never.tbl"
[ ! -e "$WORK/never.tbl" ] || fail "train left a model behind after an error"

finish pipeline_test
