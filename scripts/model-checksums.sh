#!/usr/bin/env bash
# Prints a SHA-256 table of model files that one build writes: every registered model kind and
# task (`tabula models --json`) on numeric tables, a table with text columns and missing values,
# a tuned model and the demo's models, all with seed 0 and the clock pinned (faketime), so two
# builds can be compared byte for byte after a change that must not alter behaviour:
#   scripts/model-checksums.sh build/cpu/tabula > before.txt   (on the old commit)
#   scripts/model-checksums.sh build/cpu/tabula > after.txt && diff before.txt after.txt
set -euo pipefail
TABULA="$(realpath "${1:?usage: model-checksums.sh path/to/tabula}")"
command -v faketime >/dev/null || { echo "model-checksums.sh: needs faketime (apt-get install faketime)" >&2; exit 2; }
cd "$(dirname "$0")/.."
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp data/*.csv "$WORK/"
cd "$WORK"
# Regression with text columns: Titanic passengers' ages from sex, class and survival.
awk -F, 'NR == 1 || $(NF - 1) != ""' titanic.csv >titanic_ages.csv

run() { faketime -f '2026-01-01 00:00:00' "$TABULA" "$@" >/dev/null 2>&1; }
row() { printf '%-52s %s\n' "$1" "$(sha256sum "$2" | cut -c1-16)"; }

params() {
  case "$1" in
    forest*) echo "--param n_estimators=10" ;;
    *) echo "" ;;
  esac
}
kinds=$("$TABULA" models --json | python3 -c 'import json,sys
for m in json.load(sys.stdin):
    for t in m["tasks"]: print(m["name"], t)')
while read -r kind task; do
  case "$task" in
    classification)
      sets="breast_cancer.csv:target wine.csv:target titanic.csv:survived" ;;
    regression)
      sets="diabetes.csv:target titanic_ages.csv:age" ;;
    transform)
      sets="breast_cancer.csv:- wine.csv:-" ;;
  esac
  for s in $sets; do
    data="${s%%:*}" target="${s##*:}"
    out="$kind-$task-${data%.csv}.tbl"
    args=(train --data "$data" --model "$kind" --seed 0 --out "$out" $(params "$kind"))
    [ "$target" != - ] && args+=(--target "$target" --task "$task")
    [ "$data" = titanic.csv ] && args+=(--drop-columns name)
    if run "${args[@]}"; then row "$out" "$out"; else printf '%-52s %s\n' "$out" "train failed"; fi
  done
done <<<"$kinds"

run tune --data breast_cancer.csv --target target --model logistic --param 'C=logspace(-2,2,5)' \
  --metric roc_auc --no-progress --out search
row "tune logistic (best model)" search/model.tabula
run tune --data wine.csv --target target --model forest --param n_estimators=10 \
  --param 'max_depth=[3,6]' --no-progress --out search-forest
row "tune forest (best model)" search-forest/model.tabula
# The demo's two models (scripts/demo.sh).
run train --data breast_cancer.csv --target target --model forest --param n_estimators=100 \
  --test-size 0.2 --seed 0 --out demo-forest.tbl
row "demo forest" demo-forest.tbl
run train --data titanic.csv --target survived --model forest --drop-columns name --seed 0 \
  --out demo-titanic.tbl
row "demo titanic forest" demo-titanic.tbl
