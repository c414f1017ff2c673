#!/usr/bin/env bash
# The README's demo: on the breast cancer Wisconsin data (569 rows, 30 features, shipped in
# data/), show the devices, describe the table, train two models against their baseline on a
# held-out test set, score the file with the saved model and show what the model file holds.
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
say "$TABULA" predict --model "$OUT/forest.tbl" --data "$DATA" --out "$OUT/proba.csv" --proba
printf '\nfirst rows of %s:\n' "$OUT/proba.csv"
head -4 "$OUT/proba.csv"
say "$TABULA" inspect "$OUT/logistic.tbl"
