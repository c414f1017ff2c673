#!/usr/bin/env bash
# Peak resident memory of batch scoring (`tabula predict`, ridge, 25 columns, a 30 MB CSV), for
# several tabula programs side by side in one run: the CPU-only and CUDA builds, with and without
# the CUDA plugin loaded. Prints a markdown table (GNU time's maxrss).
# Usage: benchmarks/batch_rss.sh LABEL=COMMAND... (COMMAND: a tabula program, optionally with
#        environment assignments before it, e.g. "LD_PRELOAD=build/cuda/libtabula_cuda.so
#        build/cuda/tabula"); the first one trains the model.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 LABEL=COMMAND..." >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python=${PYTHON:-python3}
"$python" - "$work" <<'PY'
import random, sys
random.seed(3)
cols = [f"x{i}" for i in range(24)]
with open(f"{sys.argv[1]}/data.csv", "w") as f:
    f.write(",".join(cols + ["y"]) + "\n")
    size = 0
    while size < 30 * 2**20:
        row = [random.gauss(0, 1) for _ in cols]
        line = ",".join(f"{v:.6f}" for v in row + [sum(row) + random.gauss(0, 0.1)]) + "\n"
        f.write(line)
        size += len(line)
PY
head -2001 "$work/data.csv" >"$work/train.csv"
first=${1#*=}
env $first train --data "$work/train.csv" --target y --model ridge --seed 1 \
  --out "$work/m.tbl" >/dev/null 2>&1
echo "| program | --chunk-rows 8192 | default chunk (65536) |"
echo "|---|---|---|"
for spec in "$@"; do
  label=${spec%%=*}
  command=${spec#*=}
  row="| $label |"
  for chunk in 8192 65536; do
    kib=$(env $command predict --model "$work/m.tbl" --data "$work/data.csv" \
      --out "$work/p.csv" --chunk-rows "$chunk" --quiet 2>/dev/null &&
      /usr/bin/time -f '%M' env $command predict --model "$work/m.tbl" --data "$work/data.csv" \
        --out "$work/p.csv" --chunk-rows "$chunk" --quiet 2>&1 >/dev/null | tail -1)
    row="$row $((kib / 1024)) MiB |"
  done
  echo "$row"
done
