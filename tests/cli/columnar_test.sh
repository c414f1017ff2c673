#!/usr/bin/env bash
# Parquet and Arrow IPC (Feather) input: the same table as CSV, Parquet (several row groups, a
# categorical dtype, a timestamp column) and Feather gives the same model and the same
# predictions; predict streams the file batch by batch with --id-column and --on-error skip;
# types tabula does not read are named; a damaged file is an error naming it.
# Usage: columnar_test.sh TABULA_BINARY SOURCE_DIR
set -u
TABULA=$1
SRC=$2
source "$(dirname "$0")/lib.sh"
PY=$SRC/.venv/bin/python

if ! "$PY" -c "import pandas, pyarrow" 2>/dev/null; then
  echo "columnar_test: SKIPPED: no pandas/pyarrow in $SRC/.venv to write the test files"
  exit 0
fi
"$PY" -c "import pandas; pandas.DataFrame({'a': [1]}).to_parquet('$WORK/probe.parquet')"
if "$TABULA" describe --data "$WORK/probe.parquet" 2>&1 | grep -q "built without Apache Arrow"; then
  echo "columnar_test: SKIPPED: this tabula was built without Apache Arrow (pyarrow in .venv)"
  exit 0
fi

"$PY" - "$SRC/data/titanic.csv" "$WORK" <<'PY'
import sys
import numpy as np
import pandas as pd
import pyarrow as pa
source, work = sys.argv[1], sys.argv[2]
frame = pd.read_csv(source)
rng = np.random.default_rng(4)
frame["boarded"] = pd.Timestamp("1912-04-01") + pd.to_timedelta(
    rng.integers(0, 10 * 86400, len(frame)), unit="s")
frame.loc[::17, "boarded"] = pd.NaT
frame.to_csv(f"{work}/t.csv", index=False)
frame.dropna(subset=["age"]).to_csv(f"{work}/aged.csv", index=False)
typed = frame.astype({"sex": "category"})
typed.to_parquet(f"{work}/t.parquet", index=False, row_group_size=200)
typed.to_feather(f"{work}/t.feather")
bad = frame.astype({"age": str})  # "nan" where missing: an NA string
bad.loc[[3, 9], "age"] = "unknown"
bad.to_parquet(f"{work}/bad_age.parquet", index=False)
nested = frame.assign(tags=[[1, 2]] * len(frame))
nested.to_parquet(f"{work}/nested.parquet", index=False)
with open(f"{work}/t.parquet", "rb") as f:
    data = f.read()
with open(f"{work}/truncated.parquet", "wb") as f:
    f.write(data[: len(data) // 2])
PY

for model in logistic forest; do
  for f in t.csv t.parquet t.feather; do
    expect_ok "train_${model}_$f" "$TABULA" train --data "$WORK/$f" --target survived \
      --model "$model" --drop-columns name --seed 5 --out "$WORK/$model-$f.tbl"
    expect_ok "predict_${model}_$f" "$TABULA" predict --model "$WORK/$model-$f.tbl" \
      --data "$WORK/$f" --proba --chunk-rows 100 --id-column name --out "$WORK/$model-$f.out.csv"
  done
  for f in t.parquet t.feather; do
    cmp -s "$WORK/$model-t.csv.out.csv" "$WORK/$model-$f.out.csv" ||
      fail "$model: predictions from $f differ from the CSV's"
  done
done
expect_ok inspect "$TABULA" inspect "$WORK/forest-t.parquet.tbl" --json
expect_contains "$WORK/out.txt" '"boarded.hour"'
[ "$(wc -l <"$WORK/forest-t.parquet.out.csv")" = "$(wc -l <"$WORK/t.csv")" ] ||
  fail "predict from Parquet wrote $(wc -l <"$WORK/forest-t.parquet.out.csv") lines"

# A string in a column the model reads as numbers: named with its row, or skipped.
expect_error bad_row ":5: column 4 ('age'): value 'unknown' is not a number" \
  "$TABULA" predict --model "$WORK/forest-t.csv.tbl" --data "$WORK/bad_age.parquet" \
  --out "$WORK/never.csv"
expect_absent "$WORK/never.csv"
expect_ok skip_rows "$TABULA" predict --model "$WORK/forest-t.csv.tbl" \
  --data "$WORK/bad_age.parquet" --on-error skip --out "$WORK/skipped.csv"
[ "$(wc -l <"$WORK/skipped.csv.rejects.csv")" = 3 ] ||
  fail "rejects: $(cat "$WORK/skipped.csv.rejects.csv")"
expect_contains "$WORK/skipped.csv.rejects.csv" "unknown"
# Forced types apply: numbers read as text, text that must be numbers.
expect_ok forced "$TABULA" describe --data "$WORK/t.parquet" --categorical age --json
expect_contains "$WORK/out.txt" '"value": "24"'
expect_error forced_numeric "column 'age', row 4: value 'unknown' is not a number" \
  "$TABULA" describe --data "$WORK/bad_age.parquet" --numeric age

# Parquet output, chosen by --out's extension: the same rows and values as the CSV output, typed
# (labels and ids as text, numbers as float64), a row group per chunk; with every row rejected
# the file still names its columns.
expect_ok train_regressor "$TABULA" train --data "$WORK/aged.csv" --target age --model forest \
  --drop-columns name --seed 5 --out "$WORK/age.tbl"
expect_ok train_pca "$TABULA" train --data "$WORK/t.csv" --model pca --drop-columns name \
  --param n_components=3 --out "$WORK/pca.tbl"
outputs=()
for job in "predict forest-t.csv.tbl" "predict forest-t.csv.tbl --proba" \
  "predict logistic-t.csv.tbl --proba" "predict age.tbl" "transform pca.tbl"; do
  read -r command model flag <<<"$job"
  name="$command-${model%.tbl}${flag:+-proba}"
  for ext in csv parquet; do
    expect_ok "${name}_$ext" "$TABULA" "$command" --model "$WORK/$model" --data "$WORK/t.parquet" \
      ${flag:-} --chunk-rows 100 --keep-columns name,passengerClass --out "$WORK/$name.$ext"
  done
  outputs+=("$WORK/$name")
done
"$PY" - "${outputs[@]}" <<'PY' || fail "Parquet output differs from the CSV output"
import sys
import pandas as pd
import pyarrow.parquet as pq
for stem in sys.argv[1:]:
    csv = pd.read_csv(stem + ".csv", keep_default_na=False, dtype={"name": str})
    parquet = pd.read_parquet(stem + ".parquet")
    assert list(csv.columns) == list(parquet.columns), (stem, csv.columns, parquet.columns)
    assert len(csv) == len(parquet) == 1309, (stem, len(csv), len(parquet))
    assert pq.ParquetFile(stem + ".parquet").num_row_groups == 14, stem
    for column in csv.columns:
        got = parquet[column]
        if pd.api.types.is_string_dtype(csv[column]):
            assert pd.api.types.is_string_dtype(got), (stem, column, got.dtype)
            assert (csv[column].astype(str) == got.astype(str)).all(), (stem, column)
        else:
            assert got.dtype == "float64", (stem, column, got.dtype)
            assert ((csv[column] - got).abs() <= 1e-12 * (1 + got.abs())).all(), (stem, column)
PY
expect_error npy_keeps "CSV" "$TABULA" predict --model "$WORK/age.tbl" --data "$WORK/t.parquet" \
  --id-column name --out "$WORK/never.npy"
expect_absent "$WORK/never.npy"
"$PY" -c "
import pandas as pd
pd.read_csv('$WORK/t.csv').assign(age='unknown').to_csv('$WORK/all_bad.csv', index=False)"
expect_ok all_rejected "$TABULA" predict --model "$WORK/forest-t.csv.tbl" \
  --data "$WORK/all_bad.csv" --on-error skip --id-column name --out "$WORK/none.parquet"
"$PY" -c "
import pandas as pd
frame = pd.read_parquet('$WORK/none.parquet')
assert len(frame) == 0 and list(frame.columns) == ['name', 'prediction'], frame" ||
  fail "a Parquet file with no rows"

# A list column is not read (with a warning naming it); a damaged file is named.
expect_ok nested "$TABULA" train --data "$WORK/nested.parquet" --target survived --model forest \
  --drop-columns name --out "$WORK/nested.tbl"
expect_contains "$WORK/err.txt" "column 'tags' has type list<element: int64>"
expect_error nested_target "target column 'tags'" "$TABULA" train \
  --data "$WORK/nested.parquet" --target tags --model forest --out "$WORK/never.tbl"
expect_error truncated "truncated.parquet" "$TABULA" describe --data "$WORK/truncated.parquet"
expect_error truncated_stream "truncated.parquet" "$TABULA" predict \
  --model "$WORK/forest-t.csv.tbl" --data "$WORK/truncated.parquet" --out "$WORK/never.csv"

finish columnar_test
