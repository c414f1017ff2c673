#!/usr/bin/env bash
# The README's demo: on the breast cancer Wisconsin data (569 rows, 30 features, shipped in
# data/), show the devices, describe the table, train two models against their baseline on a
# held-out test set, cross-validate a search over C, score the file with the saved model and
# show what the model file holds; then the Titanic passenger list (text columns, missing ages)
# through a forest pipeline, scored from its raw columns.
set -euo pipefail
cd "$(dirname "$0")/.."
TABULA="${1:-build/release/tabula}"
DATA=data/breast_cancer.csv
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

say "$TABULA" devices
say "$TABULA" describe --data "$DATA" --target target --top 2
say "$TABULA" train --data "$DATA" --target target --model logistic --param C=1.0 \
  --test-size 0.2 --seed 0 --out "$OUT/logistic.tbl"
say "$TABULA" train --data "$DATA" --target target --model forest --param n_estimators=100 \
  --test-size 0.2 --seed 0 --out "$OUT/forest.tbl"
say "$TABULA" tune --data "$DATA" --target target --model logistic \
  --param 'C=logspace(-2,2,9)' --metric roc_auc --also accuracy --no-progress --out "$OUT/search"
say "$TABULA" predict --model "$OUT/forest.tbl" --data "$DATA" --out "$OUT/proba.csv" --proba
printf '\nfirst rows of %s:\n' "$OUT/proba.csv"
head -4 "$OUT/proba.csv"
say "$TABULA" inspect "$OUT/logistic.tbl"
say "$TABULA" train --data data/titanic.csv --target survived --model forest --drop-columns name \
  --seed 0 --out "$OUT/titanic.tbl"
say "$TABULA" predict --model "$OUT/titanic.tbl" --data data/titanic.csv --id-column name \
  --proba --out "$OUT/titanic.csv"
printf '\nfirst rows of %s:\n' "$OUT/titanic.csv"
head -4 "$OUT/titanic.csv"
