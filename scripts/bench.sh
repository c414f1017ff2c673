#!/usr/bin/env bash
# Runs every CPU benchmark side by side with its peers, on the build in $1 (default
# build/release). Each writes its table with the command, date and machine under
# benchmarks/results/; benchmarks/RESULTS.md summarises them. Peers: `make bench-setup`.
# Takes about 20 minutes on 2 cores, most of it scikit-learn's forest.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build/release}"
PYTHON=.venv/bin/python

echo "== Gram matrix vs the dgemm peak"
"$BUILD/benchmarks/bench_gram" --runs 7
echo "== CSV parsing vs pandas and pyarrow"
"$PYTHON" benchmarks/csv/bench_csv.py --bench "$BUILD/benchmarks/bench_csv_parse"
echo "== Linear models, logistic regression, PCA vs scikit-learn"
"$PYTHON" benchmarks/linear/bench_linear.py --bench "$BUILD/benchmarks/bench_linear"
echo "== Random forest vs scikit-learn, XGBoost, LightGBM"
"$PYTHON" benchmarks/forest/bench_forest.py --driver "$BUILD/benchmarks/forest/bench_forest_driver" \
  --trees 100 --peer-trees lightgbm=20 --scaling
