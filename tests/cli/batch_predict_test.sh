#!/usr/bin/env bash
# Streaming predict/transform from the command line: chunking does not change the output, a
# failure mid-stream leaves no file (and an old one untouched), the progress bar appears on a
# terminal only, --quiet, option checks.
# Usage: batch_predict_test.sh TABULA_BINARY SOURCE_DIR
set -u
TABULA=$1
SRC=$2
source "$(dirname "$0")/lib.sh"
REG=$SRC/tests/data/regression_small.csv

expect_ok train "$TABULA" train --data "$REG" --target y --model ridge --out "$WORK/reg.tbl"
expect_ok train_pca "$TABULA" train --data "$REG" --target y --model pca \
  --param n_components=2 --out "$WORK/pca.tbl"

# Any chunk size gives the same bytes, for predict and transform.
for kind in predict transform; do
  model=$WORK/reg.tbl
  [ "$kind" = transform ] && model=$WORK/pca.tbl
  for rows in 1 7 1000000; do
    expect_ok "${kind}_$rows" "$TABULA" "$kind" --model "$model" --data "$REG" \
      --out "$WORK/$kind-$rows.csv" --chunk-rows "$rows"
  done
  cmp -s "$WORK/$kind-1.csv" "$WORK/$kind-1000000.csv" || fail "$kind: chunk size 1 differs"
  cmp -s "$WORK/$kind-7.csv" "$WORK/$kind-1000000.csv" || fail "$kind: chunk size 7 differs"
  [ "$(wc -l <"$WORK/$kind-7.csv")" -eq 121 ] || fail "$kind: row count"
done

# Not a terminal: no progress bar (no carriage return), a summary line.
expect_ok plain "$TABULA" predict --model "$WORK/reg.tbl" --data "$REG" --out "$WORK/p.csv"
if grep -q $'\r' "$WORK/err.txt"; then fail "progress bar drawn although stderr is not a TTY"; fi
grep -qF "wrote 120 rows" "$WORK/err.txt" || fail "no summary: $(cat "$WORK/err.txt")"
expect_ok quiet "$TABULA" predict --model "$WORK/reg.tbl" --data "$REG" --out "$WORK/p.csv" --quiet
if grep -qF "wrote" "$WORK/err.txt"; then fail "--quiet still printed the summary"; fi

# On a terminal (script gives the command a pseudo-terminal): the bar shows rows/s.
script -qec "$TABULA predict --model $WORK/reg.tbl --data $REG --out $WORK/tty.csv --chunk-rows 10" \
  /dev/null >"$WORK/tty.txt" 2>&1
grep -qF "rows/s" "$WORK/tty.txt" || fail "no progress bar on a terminal: $(cat "$WORK/tty.txt")"
cmp -s "$WORK/tty.csv" "$WORK/predict-7.csv" || fail "output differs under a terminal"

# A bad row deep in the file, after several chunks were written: the old output is untouched
# and no temporary file is left.
awk 'NR == 100 { sub(/^[^,]*/, "bad") } { print }' "$REG" >"$WORK/late_bad.csv"
echo old >"$WORK/old.csv"
expect_exit late_bad 1 "late_bad.csv:100: column 1 ('x1'): value 'bad' is not a number" \
  "$TABULA" predict --model "$WORK/reg.tbl" --data "$WORK/late_bad.csv" --out "$WORK/old.csv" \
  --chunk-rows 5
[ "$(cat "$WORK/old.csv")" = old ] || fail "a failed job changed the existing output"
ls -a "$WORK" | grep -q '\.tmp\.' && fail "temporary files left behind: $(ls -a "$WORK")"
[ -e "$WORK/old.csv.rejects.csv" ] && fail "stop mode wrote a rejects file"

# Skip mode on the same file: 119 scored + 1 rejected = 120 data lines.
expect_ok skip "$TABULA" predict --model "$WORK/reg.tbl" --data "$WORK/late_bad.csv" \
  --out "$WORK/skip.csv" --on-error skip --chunk-rows 5
grep -qF "scored 119, rejected 1, total 120 lines" "$WORK/err.txt" ||
  fail "skip summary: $(cat "$WORK/err.txt")"
[ "$(sed -n 2p "$WORK/skip.csv.rejects.csv" | cut -d, -f1,2)" = "100,x1" ] ||
  fail "rejects file: $(cat "$WORK/skip.csv.rejects.csv")"

# Option checks.
expect_exit bad_policy 2 "--on-error" "$TABULA" predict --model "$WORK/reg.tbl" --data "$REG" \
  --out "$WORK/x.csv" --on-error maybe
expect_exit zero_chunk 2 "--chunk-rows" "$TABULA" predict --model "$WORK/reg.tbl" --data "$REG" \
  --out "$WORK/x.csv" --chunk-rows 0
expect_exit missing_id 1 "no column 'nope' to copy" "$TABULA" predict --model "$WORK/reg.tbl" \
  --data "$REG" --out "$WORK/x.csv" --id-column nope
[ -e "$WORK/x.csv" ] && fail "a refused job wrote its output"

finish batch_predict_test
