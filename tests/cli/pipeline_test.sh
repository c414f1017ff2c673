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

# ---- dates: ISO columns found, other spellings named, 1,500 distinct days kept ------------
awk 'BEGIN { print "day,stamp,x,y"; srand(3);
  for (i = 0; i < 1500; i++) {
    t = 1577836800 + i * 86400 + (i % 24) * 3600;
    d = strftime("%Y-%m-%d", t, 1); dow = strftime("%u", t, 1);
    printf "%s,%s,%.3f,%.3f\n", d, strftime("%d/%m/%Y %H:%M", t, 1), rand(), (dow >= 6) * 5 + rand()
  } }' >"$WORK/dates.csv"
expect_ok train_dates "$TABULA" train --data "$WORK/dates.csv" --target y --model forest \
  --drop-columns stamp --seed 1 --out "$WORK/dates.tbl"
expect_ok inspect_dates "$TABULA" inspect "$WORK/dates.tbl" --json
expect_contains "$WORK/out.txt" '"day.day_of_week"'
expect_contains "$WORK/out.txt" '"day.epoch"'
expect_ok train_date_format "$TABULA" train --data "$WORK/dates.csv" --target y --model ridge \
  --drop-columns day --date stamp --date-format '%d/%m/%Y %H:%M' --out "$WORK/stamp.tbl"
expect_ok inspect_date_format "$TABULA" inspect "$WORK/stamp.tbl" --json
expect_contains "$WORK/out.txt" '"stamp.hour"'
printf 'day,stamp,x\n2024-02-29,29/02/2024 10:00,0.5\n2024-02-30,30/02/2024 10:00,0.5\n' >"$WORK/new_dates.csv"
expect_error not_a_date "value '2024-02-30' is not a date in format ISO 8601" \
  "$TABULA" predict --model "$WORK/dates.tbl" --data "$WORK/new_dates.csv" --out "$WORK/never.csv"
expect_contains "$WORK/err.txt" "new_dates.csv:3"
expect_ok predict_skip "$TABULA" predict --model "$WORK/stamp.tbl" --data "$WORK/new_dates.csv" \
  --out "$WORK/dated.csv" --on-error skip
[ "$(wc -l <"$WORK/dated.csv")" = 2 ] || fail "predict --on-error skip kept $(wc -l <"$WORK/dated.csv") lines"
expect_error bad_date_format "unknown directive '%q'" "$TABULA" train --data "$WORK/dates.csv" \
  --target y --model forest --date stamp --date-format '%d/%q/%Y' --out "$WORK/never.tbl"
expect_error fit_not_a_date "is not a date in format '%Y%m%d'" "$TABULA" train \
  --data "$WORK/dates.csv" --target y --model forest --date day --date-format '%Y%m%d' \
  --out "$WORK/never.tbl"

finish pipeline_test
