#!/usr/bin/env bash
# CSV dialects through every command that reads a CSV file: the delimiter sniffed (';' and tab
# exports) or given with --delimiter, --na-values, --categorical, the refusal of numeric
# columns in disguise (a stray '?', decimal commas) with the flag that fixes it, and gzip, xz,
# bzip2 and zstd-compressed files.
# Usage: csv_dialect_test.sh TABULA_BINARY SOURCE_DIR
set -u
TABULA=$1
source "$(dirname "$0")/lib.sh"

# The same table as ';'-separated and tab-separated files, and a ','-separated one whose age
# column marks missing values with '?'.
python3 - "$WORK" <<'PY'
import random, sys
random.seed(3)
rows = []
for i in range(240):
    x = random.random()
    rows.append((i, round(x, 4), random.choice("abc"), int(x + random.random() * 0.3 > 0.65)))
for name, sep in (("semi.csv", ";"), ("tab.csv", "\t")):
    with open(f"{sys.argv[1]}/{name}", "w") as f:
        f.write(sep.join(("id", "x", "kind", "y")) + "\n")
        for r in rows:
            f.write(sep.join(map(str, r)) + "\n")
with open(f"{sys.argv[1]}/stray.csv", "w") as f:
    f.write("x,age,y\n")
    for i, r in enumerate(rows):
        f.write(f"{r[1]},{'?' if i % 40 == 7 else 20 + i % 50},{r[3]}\n")
with open(f"{sys.argv[1]}/comma.csv", "w") as f:
    f.write("x;y\n")
    for r in rows:
        f.write(f"{str(r[1]).replace('.', ',')};{r[3]}\n")
PY

# describe: the sniffed delimiter gives the four columns.
expect_ok describe-semi "$TABULA" describe --data "$WORK/semi.csv" --json
expect_contains "$WORK/out.txt" '"name": "kind"'
expect_contains "$WORK/err.txt" "columns separated by ';' (sniffed"
expect_ok describe-tab "$TABULA" describe --data "$WORK/tab.csv" --json
expect_contains "$WORK/out.txt" '"name": "kind"'
# A delimiter given wins: the ';' file read with ',' is one column, without the target.
expect_error given-delimiter "target column not found" \
  "$TABULA" train --data "$WORK/semi.csv" --target y --model logistic --delimiter , \
  --out "$WORK/never.tabula"
[ -e "$WORK/never.tabula" ] && fail "given-delimiter: wrote a model"
expect_error bad-delimiter "expected one character" \
  "$TABULA" describe --data "$WORK/semi.csv" --delimiter ';;'

# train and predict on both exports give the same predictions.
for f in semi tab; do
  expect_ok "train-$f" "$TABULA" train --data "$WORK/$f.csv" --target y --model forest \
    --param n_estimators=10 --drop-columns id --out "$WORK/$f.tabula"
  expect_ok "predict-$f" "$TABULA" predict --model "$WORK/$f.tabula" --data "$WORK/$f.csv" \
    --out "$WORK/$f.pred.csv" --id-column id --quiet
done
cmp -s "$WORK/semi.pred.csv" "$WORK/tab.pred.csv" || fail "predictions differ between ; and tab"
# The model from the ';' file scores the tab file too (columns matched by name).
expect_ok predict-cross "$TABULA" predict --model "$WORK/semi.tabula" --data "$WORK/tab.csv" \
  --out "$WORK/cross.pred.csv" --id-column id --quiet
cmp -s "$WORK/semi.pred.csv" "$WORK/cross.pred.csv" || fail "cross predictions differ"

# tune reads the same way.
expect_ok tune-semi "$TABULA" tune --data "$WORK/semi.csv" --target y --model logistic \
  --param 'C=[0.1,1]' --drop-columns id --folds 3 --no-progress --out "$WORK/tune"
[ -s "$WORK/tune/model.tabula" ] || fail "tune-semi: no model"

# A stray '?': refused by train, describe and tune with the fix; --na-values reads it as missing.
for cmd in "train --target y --model ridge --out $WORK/s.tabula" "describe" \
  "tune --target y --model ridge --param alpha=[1,2] --no-progress --out $WORK/st"; do
  # shellcheck disable=SC2086
  expect_error "stray-${cmd%% *}" "column 'age' holds numbers except '?' in 6 of 240 cells" \
    "$TABULA" $cmd --data "$WORK/stray.csv"
  expect_contains "$WORK/err.txt" "--na-values '?'"
done
expect_ok stray-na "$TABULA" train --data "$WORK/stray.csv" --target y --model ridge \
  --na-values '?' --out "$WORK/s.tabula"
expect_ok stray-na-predict "$TABULA" predict --model "$WORK/s.tabula" --data "$WORK/stray.csv" \
  --na-values '?' --out "$WORK/s.pred.csv" --quiet
[ "$(wc -l <"$WORK/s.pred.csv")" -eq 241 ] || fail "stray-na-predict: $(wc -l <"$WORK/s.pred.csv") lines"
expect_ok stray-categorical "$TABULA" describe --data "$WORK/stray.csv" --categorical age --json
expect_contains "$WORK/out.txt" '"type": "categorical"'

# Decimal commas: refused with what was found.
expect_error decimal-comma "column 'x' holds numbers written with commas" \
  "$TABULA" train --data "$WORK/comma.csv" --target y --model logistic --out "$WORK/c.tabula"
[ -e "$WORK/c.tabula" ] && fail "decimal-comma: wrote a model"
expect_contains "$WORK/err.txt" "--decimal ,"
# ... and read with --decimal ,: the model of the same numbers written with '.'.
sed 's/,/./' "$WORK/comma.csv" >"$WORK/dot.csv"
expect_ok decimal-train "$TABULA" train --data "$WORK/comma.csv" --target y --model logistic \
  --decimal , --out "$WORK/c.tabula"
expect_ok dot-train "$TABULA" train --data "$WORK/dot.csv" --target y --model logistic \
  --out "$WORK/d.tabula"
expect_ok decimal-predict "$TABULA" predict --model "$WORK/c.tabula" --data "$WORK/comma.csv" \
  --decimal , --out "$WORK/c.pred.csv" --proba --quiet
expect_ok dot-predict "$TABULA" predict --model "$WORK/d.tabula" --data "$WORK/dot.csv" \
  --out "$WORK/d.pred.csv" --proba --quiet
cmp -s "$WORK/c.pred.csv" "$WORK/d.pred.csv" || fail "decimal: another model than the '.' file's"

# A pandas export (df.to_csv() writes the row index as an unnamed first column): the index is
# not a feature, in training or in scoring.
python3 - "$WORK" <<'PY'
import sys
rows = open(f"{sys.argv[1]}/semi.csv").read().splitlines()
with open(f"{sys.argv[1]}/pandas.csv", "w") as f:
    f.write("," + rows[0].replace(";", ",") + "\n")
    for i, row in enumerate(rows[1:]):
        f.write(f"{i}," + row.replace(";", ",") + "\n")
PY
expect_ok pandas-train "$TABULA" train --data "$WORK/pandas.csv" --target y --model forest \
  --param n_estimators=10 --drop-columns id --out "$WORK/pandas.tabula"
expect_contains "$WORK/err.txt" "column '' is a row index as pandas writes it: not read"
expect_ok pandas-predict "$TABULA" predict --model "$WORK/pandas.tabula" --data "$WORK/pandas.csv" \
  --out "$WORK/pandas.pred.csv" --id-column id --quiet
cmp -s "$WORK/semi.pred.csv" "$WORK/pandas.pred.csv" || fail "pandas: another model than semi.csv's"
# inspect names the features the importances belong to: the columns and their one-hot outputs.
expect_ok inspect-names "$TABULA" inspect "$WORK/pandas.tabula"
expect_contains "$WORK/out.txt" "feature_importances_ by feature:"
expect_contains "$WORK/out.txt" "kind=a"
expect_ok inspect-json "$TABULA" inspect --json "$WORK/pandas.tabula"
expect_contains "$WORK/out.txt" '"feature_names_out"'

# A text column of identifiers is not a feature unless asked for: warned about and left out.
python3 - "$WORK" <<'PY'
import random, sys
random.seed(2)
with open(f"{sys.argv[1]}/ids.csv", "w") as f:
    f.write("user,x,y\n")
    for i in range(400):
        x = random.random()
        f.write(f"u{i:05d},{x:.3f},{int(x > 0.5)}\n")
PY
expect_ok ids-dropped "$TABULA" train --data "$WORK/ids.csv" --target y --model logistic \
  --out "$WORK/ids.tabula"
expect_contains "$WORK/err.txt" "column 'user' has 400 distinct values in 400 rows"
expect_ok ids-inspect "$TABULA" inspect --json "$WORK/ids.tabula"
grep -q '"user' "$WORK/out.txt" && fail "ids-dropped: the model reads 'user'"
expect_ok ids-kept "$TABULA" train --data "$WORK/ids.csv" --target y --model logistic \
  --categorical user --out "$WORK/ids-kept.tabula"
expect_ok ids-kept-inspect "$TABULA" inspect --json "$WORK/ids-kept.tabula"
expect_contains "$WORK/out.txt" '"user=u00000"'

# Compressed files, recognised by their bytes whatever their names: the same model and the
# same predictions as from the plain file, through train, describe and predict.
python3 - "$WORK" <<'PY'
import bz2, gzip, lzma, sys
text = open(f"{sys.argv[1]}/semi.csv", "rb").read()
for name, pack in (("gz", gzip.compress), ("xz", lzma.compress), ("bz2", bz2.compress)):
    open(f"{sys.argv[1]}/semi.{name}.csv", "wb").write(pack(text))
PY
packed=(gz xz bz2)
if command -v zstd >/dev/null; then
  zstd -q "$WORK/semi.csv" -o "$WORK/semi.zst.csv" && packed+=(zst)
else
  echo "csv_dialect_test: zstd command missing, zstd input not checked here"
fi
for c in "${packed[@]}"; do
  expect_ok "train-$c" "$TABULA" train --data "$WORK/semi.$c.csv" --target y --model forest \
    --param n_estimators=10 --drop-columns id --out "$WORK/$c.tabula"
  expect_ok "same-model-$c" "$TABULA" predict --model "$WORK/$c.tabula" --data "$WORK/semi.csv" \
    --out "$WORK/$c.check.csv" --id-column id --quiet
  cmp -s "$WORK/semi.pred.csv" "$WORK/$c.check.csv" || fail "train-$c: another model"
  expect_ok "predict-$c" "$TABULA" predict --model "$WORK/semi.tabula" \
    --data "$WORK/semi.$c.csv" --out "$WORK/$c.pred.csv" --id-column id --quiet
  cmp -s "$WORK/semi.pred.csv" "$WORK/$c.pred.csv" || fail "predict-$c: predictions differ"
  expect_ok "describe-$c" "$TABULA" describe --data "$WORK/semi.$c.csv" --json
  expect_contains "$WORK/out.txt" '"rows": 240'
done
head -c 300 "$WORK/semi.gz.csv" >"$WORK/cut.gz.csv"
expect_error truncated "data ends early" "$TABULA" predict --model "$WORK/semi.tabula" \
  --data "$WORK/cut.gz.csv" --out "$WORK/cut.pred.csv" --quiet
[ -e "$WORK/cut.pred.csv" ] && fail "truncated: left an output file"

# Other encodings (--encoding, iconv's names): the same model and predictions as the UTF-8 file,
# through train (whole file) and predict (streamed, also from a gzip file); without the flag a
# clear error that names it.
python3 - "$WORK" <<'PY'
import gzip, sys
text = open(f"{sys.argv[1]}/semi.csv", encoding="utf-8").read()
for k, town in (("a", "Besançon"), ("b", "Nîmes"), ("c", "Orléans €")):
    text = text.replace(f";{k};", f";{town};")
open(f"{sys.argv[1]}/towns.csv", "w", encoding="utf-8").write(text)
open(f"{sys.argv[1]}/towns.cp1252.csv", "w", encoding="cp1252").write(text)
open(f"{sys.argv[1]}/towns.utf16.csv", "w", encoding="utf-16").write(text)
with open(f"{sys.argv[1]}/towns.cp1252.gz.csv", "wb") as f:
    f.write(gzip.compress(text.encode("cp1252")))
PY
expect_ok towns "$TABULA" train --data "$WORK/towns.csv" --target y --model logistic \
  --drop-columns id --out "$WORK/towns.tabula"
expect_ok towns-pred "$TABULA" predict --model "$WORK/towns.tabula" --data "$WORK/towns.csv" \
  --out "$WORK/towns.pred.csv" --id-column id --proba --quiet
for pair in cp1252:towns.cp1252.csv utf-16:towns.utf16.csv cp1252:towns.cp1252.gz.csv; do
  enc=${pair%%:*} file=${pair#*:}
  expect_ok "train-$file" "$TABULA" train --data "$WORK/$file" --encoding "$enc" --target y \
    --model logistic --drop-columns id --out "$WORK/$file.tabula"
  expect_ok "same-model-$file" "$TABULA" predict --model "$WORK/$file.tabula" \
    --data "$WORK/towns.csv" --out "$WORK/$file.check.csv" --id-column id --proba --quiet
  cmp -s "$WORK/towns.pred.csv" "$WORK/$file.check.csv" || fail "train-$file: another model"
  expect_ok "predict-$file" "$TABULA" predict --model "$WORK/towns.tabula" --data "$WORK/$file" \
    --encoding "$enc" --out "$WORK/$file.pred.csv" --id-column id --proba --quiet
  cmp -s "$WORK/towns.pred.csv" "$WORK/$file.pred.csv" || fail "predict-$file: predictions differ"
done
printf 'data = "%s"\ntarget = "y"\nmodel = "logistic"\nencoding = "cp1252"\ndrop_columns = ["id"]\n[space]\nC = [1.0]\n' \
  "$WORK/towns.cp1252.csv" >"$WORK/towns.toml"
expect_ok tune-spec-encoding "$TABULA" tune --spec "$WORK/towns.toml" --out "$WORK/towns.tune" \
  --no-progress
expect_ok describe-cp1252 "$TABULA" describe --data "$WORK/towns.cp1252.csv" --encoding cp1252
expect_contains "$WORK/out.txt" "Orléans €"
expect_error no-encoding "needs --encoding" \
  "$TABULA" describe --data "$WORK/towns.cp1252.csv"
expect_error no-encoding-utf16 "pass --encoding" \
  "$TABULA" train --data "$WORK/towns.utf16.csv" --target y --model logistic \
  --out "$WORK/never.tabula"
expect_error unknown-encoding "unknown --encoding 'klingon'" \
  "$TABULA" describe --data "$WORK/towns.csv" --encoding klingon
head -c -1 "$WORK/towns.utf16.csv" >"$WORK/cut.utf16.csv"  # half a character at the end
expect_error cut-encoding "not a complete character in the encoding 'utf-16'" \
  "$TABULA" predict --model "$WORK/towns.tabula" --data "$WORK/cut.utf16.csv" --encoding utf-16 \
  --out "$WORK/never.csv"
[ -e "$WORK/never.tabula" ] || [ -e "$WORK/never.csv" ] && fail "encoding errors left files"

[ "$failures" -eq 0 ] || exit 1
echo "csv_dialect_test: ok"
