#!/usr/bin/env bash
# Files a user names are untrusted (docs/security.md, "Files a user names"): no verb writes over
# one of its inputs or writes two outputs to one file; values a float32 model cannot hold are
# bad rows, not NaN predictions; a huge field is an error, not unbounded memory; a search trusts
# no journal line it cannot check, takes its output folder for itself, and a failed write leaves
# the previous outputs whole.
# Usage: unsafe_files_test.sh TABULA_BINARY SOURCE_DIR
set -u
TABULA=$1
SRC=$2
source "$(dirname "$0")/lib.sh"
REG=$SRC/tests/data/regression_small.csv
CLS=$SRC/data/breast_cancer.csv

sum() { md5sum "$1" | cut -d' ' -f1; }
no_temporaries() {  # no_temporaries NAME DIR: nothing left under a temporary name
  local left
  left=$(find "$2" -name '.*.tmp.*' | head -3)
  [ -z "$left" ] || fail "$1: temporary files left: $left"
}

# ---- Outputs that are inputs, or each other ----
expect_ok train-ridge "$TABULA" train --data "$REG" --target y --model ridge --out "$WORK/ridge.tabula"
expect_ok train-pca "$TABULA" train --data "$REG" --model pca --param n_components=2 --out "$WORK/pca.tabula"
cp "$REG" "$WORK/in.csv"
before=$(sum "$WORK/in.csv")
ln -s "$WORK/in.csv" "$WORK/link.csv"
ln "$WORK/in.csv" "$WORK/hard.csv"
mkdir "$WORK/sub"
for out in "$WORK/in.csv" "$WORK/link.csv" "$WORK/hard.csv" "$WORK/sub/../in.csv"; do
  expect_error "predict --out $out" "is the same file as --data" \
    "$TABULA" predict --model "$WORK/ridge.tabula" --data "$WORK/in.csv" --out "$out"
  expect_error "transform --out $out" "is the same file as --data" \
    "$TABULA" transform --model "$WORK/pca.tabula" --data "$WORK/in.csv" --out "$out"
done
expect_error "predict --data via a link" "is the same file as --data" \
  "$TABULA" predict --model "$WORK/ridge.tabula" --data "$WORK/link.csv" --out "$WORK/in.csv"
expect_error "predict --out the model" "is the same file as --model" \
  "$TABULA" predict --model "$WORK/ridge.tabula" --data "$WORK/in.csv" --out "$WORK/ridge.tabula"
expect_error "predict --rejects the input" "--rejects '$WORK/hard.csv' is the same file as --data" \
  "$TABULA" predict --model "$WORK/ridge.tabula" --data "$WORK/in.csv" --out "$WORK/p.csv" \
  --on-error skip --rejects "$WORK/hard.csv"
expect_error "predict --rejects --out" "--rejects '$WORK/p.csv' is the same file as --out" \
  "$TABULA" predict --model "$WORK/ridge.tabula" --data "$WORK/in.csv" --out "$WORK/p.csv" \
  --on-error skip --rejects "$WORK/p.csv"
expect_error "predict --rejects --out (not yet existing, two spellings)" "is the same file as --out" \
  "$TABULA" predict --model "$WORK/ridge.tabula" --data "$WORK/in.csv" --out "$WORK/new.csv" \
  --on-error skip --rejects "$WORK/sub/../new.csv"
[ -e "$WORK/p.csv" ] && fail "predict wrote --out although its outputs clash"
expect_error "train --out the data" "is the same file as --data" \
  "$TABULA" train --data "$WORK/in.csv" --target y --model ridge --out "$WORK/link.csv"
expect_error "tune --out the data" "is the same file as --data" \
  "$TABULA" tune --data "$WORK/in.csv" --target y --model ridge --param 'alpha=[1]' \
  --no-progress --out "$WORK/link.csv"
mkdir -p "$WORK/t"
cp "$REG" "$WORK/t/leaderboard.csv"
expect_error "tune --data in its own outputs" "is the same file as --data" \
  "$TABULA" tune --data "$WORK/t/leaderboard.csv" --target y --model ridge --param 'alpha=[1]' \
  --no-progress --out "$WORK/t"
[ "$(sum "$WORK/in.csv")" = "$before" ] || fail "the input changed"
[ "$(sum "$WORK/t/leaderboard.csv")" = "$(sum "$REG")" ] || fail "tune changed its input"
no_temporaries clash "$WORK"
# Distinct files still work, and the default rejects name is checked too.
expect_ok predict-distinct "$TABULA" predict --model "$WORK/ridge.tabula" --data "$WORK/in.csv" \
  --out "$WORK/p.csv" --on-error skip
cp "$REG" "$WORK/q.csv.rejects.csv"
expect_error "default rejects name is the input" "--rejects '$WORK/q.csv.rejects.csv' is the same file" \
  "$TABULA" predict --model "$WORK/ridge.tabula" --data "$WORK/q.csv.rejects.csv" \
  --out "$WORK/q.csv" --on-error skip

# ---- Infinite and out-of-float32 features: bad rows, never NaN or inf predictions ----
python3 - "$REG" "$WORK/inf.csv" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines()
lines[3] = "inf," + lines[3].split(",", 1)[1]         # line 4: column 1
lines[5] = lines[5].rsplit(",", 2)[0] + ",1e39," + lines[5].rsplit(",", 1)[1]  # line 6: column 3
lines[8] = "-inf," + lines[8].split(",", 1)[1]        # line 9
lines[10] = "," + lines[10].split(",", 1)[1]          # line 11: a missing value, legitimate
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
EOF
expect_error "predict inf (stop)" "inf.csv:4: column 1 ('x1'): value 'inf' is infinite or outside the float32 range" \
  "$TABULA" predict --model "$WORK/ridge.tabula" --data "$WORK/inf.csv" --out "$WORK/i.csv"
[ -e "$WORK/i.csv" ] && fail "predict inf (stop) wrote its output"
expect_ok "train on clean rows" "$TABULA" train --data "$CLS" --target target --model logistic \
  --out "$WORK/logistic.tabula"
expect_ok "train forest" "$TABULA" train --data "$CLS" --target target --model forest \
  --param n_estimators=5 --out "$WORK/forest.tabula"
python3 - "$CLS" "$WORK/cls_inf.csv" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines()
for i, v in ((2, "inf"), (4, "1e39"), (6, "-1E+40"), (7, "Infinity")):
    fields = lines[i].split(",")
    fields[1] = v
    lines[i] = ",".join(fields)
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
EOF
for model in ridge logistic forest; do
  case $model in
    ridge) data=$WORK/inf.csv; bad="4 6 9"; extra=() ;;
    *) data=$WORK/cls_inf.csv; bad="3 5 7 8"; extra=(--proba) ;;
  esac
  expect_ok "predict $model skip" "$TABULA" predict --model "$WORK/$model.tabula" --data "$data" \
    --out "$WORK/$model.csv" --on-error skip "${extra[@]}"
  got=$(tail -n +2 "$WORK/$model.csv.rejects.csv" | cut -d, -f1 | tr '\n' ' ')
  [ "$got" = "$bad " ] || fail "predict $model skip: rejected lines '$got', expected '$bad '"
  grep -qiE 'nan|inf' "$WORK/$model.csv" && fail "predict $model: NaN or inf in the output"
done
expect_error "train inf names its line" "inf.csv:4: column 1 ('x1'): value 'inf' is infinite" \
  "$TABULA" train --data "$WORK/inf.csv" --target y --model ridge --out "$WORK/r2.tabula"
# A text column may hold the word "inf": it stays a category.
printf 'a,b,y\ninf,1,1\nx,2,2\ny,3,3\nz,4,4\n' >"$WORK/text_inf.csv"
expect_ok "text column with inf" "$TABULA" describe --data "$WORK/text_inf.csv"

# ---- A huge field is an error naming file, line and column ----
python3 -c "
import sys
sys.stdout.write('a,b\n1,x\n2,' + 'y' * (2 << 20) + '\n3,\"' + 'z' * 10 + '\"\n')" >"$WORK/long.csv"
expect_error "describe long field" "long.csv:3: column 2 ('b'): a field of" \
  "$TABULA" describe --data "$WORK/long.csv"
grep -qF "max_field_bytes" "$WORK/err.txt" || fail "long field: the limit is not named"
python3 -c "
import sys
sys.stdout.write('x1,x2,x3\n1,2,3\n1,2,\"' + '9' * (2 << 20) + '\"\n')" >"$WORK/long_quoted.csv"
expect_error "predict long quoted field" "long_quoted.csv:3: column 3 ('x3'): a field of" \
  "$TABULA" predict --model "$WORK/ridge.tabula" --data "$WORK/long_quoted.csv" --out "$WORK/l.csv"

# ---- tune: the journal is checked, the folder locked, the outputs written together ----
TUNE=(tune --data "$REG" --target y --model ridge --param 'alpha=[0.01,1,100]' --no-progress)
expect_ok tune "$TABULA" "${TUNE[@]}" --out "$WORK/j"
cp "$WORK/j/leaderboard.csv" "$WORK/leaderboard.orig"
# Forge: trial 2 (alpha=100) claims perfect scores; once without fixing the checksum, once with
# it recomputed but outside the metric's range, once with another candidate's parameters.
python3 - "$WORK/j/journal.jsonl" <<'EOF'
import json, sys

def fnv(text):
    h = 0xcbf29ce484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "fnv1a64:%016x" % h

def signed(j):
    j.pop("checksum", None)
    j["checksum"] = fnv(json.dumps(j, sort_keys=True, separators=(",", ":")))
    return j

path = sys.argv[1]
lines = [json.loads(l) for l in open(path)]
for j in lines:
    if j["trial"] == 0:
        j["scores"] = [[1.0] * len(j["scores"][0])]                     # checksum left stale
    elif j["trial"] == 1:
        j["scores"] = [[5.0] * len(j["scores"][0])]; signed(j)          # r2 above 1
    elif j["trial"] == 2:
        j["params"] = {"alpha": "0.5"}; signed(j)                       # not this candidate
open(path, "w").write("".join(json.dumps(j, separators=(",", ":")) + "\n" for j in lines))
EOF
expect_ok tune-forged "$TABULA" "${TUNE[@]}" --out "$WORK/j"
for n in 1 2 3; do
  grep -qE "journal.jsonl:$n: .*not believed" "$WORK/err.txt" || fail "forged line $n: no warning"
done
grep -qF "checksum does not match" "$WORK/err.txt" || fail "stale checksum not reported"
grep -qF "resumed from the journal" "$WORK/out.txt" &&
  fail "forged lines were resumed: $(cat "$WORK/out.txt")"
grep -qF "r2 score of 5 is not a finite number in [" "$WORK/err.txt" || fail "range not checked"
grep -qF "are not those of candidate 2" "$WORK/err.txt" || fail "parameters not checked"
cmp -s <(cut -d, -f1-4 "$WORK/j/leaderboard.csv") <(cut -d, -f1-4 "$WORK/leaderboard.orig") ||
  fail "forged journal changed the leaderboard"
# A second search on a folder in use fails at once, naming the folder.
exec 9>"$WORK/j/.lock"
flock 9
start=$(date +%s)
expect_error tune-locked "the output folder '$WORK/j' is in use" "$TABULA" "${TUNE[@]}" --out "$WORK/j"
[ $(($(date +%s) - start)) -lt 10 ] || fail "tune-locked waited for the lock"
exec 9>&-
# A write that fails (file size limit: the disk is "full") leaves the previous outputs whole.
for f in leaderboard.csv leaderboard.json report.html model.tabula; do
  cp "$WORK/j/$f" "$WORK/$f.before"
done
(
  trap '' XFSZ
  ulimit -f 4 # KiB: the journal fits, report.html does not
  exec "$TABULA" tune --data "$REG" --target y --model ridge --param 'alpha=[3,30]' \
    --no-progress --out "$WORK/j"
) >"$WORK/out.txt" 2>"$WORK/err.txt" && fail "tune on a full disk succeeded"
grep -qE "cannot (write|flush)" "$WORK/err.txt" || fail "full disk: $(cat "$WORK/err.txt")"
for f in leaderboard.csv leaderboard.json report.html model.tabula; do
  cmp -s "$WORK/j/$f" "$WORK/$f.before" || fail "full disk: $f changed"
done
no_temporaries full-disk "$WORK/j"

finish unsafe_files_test
