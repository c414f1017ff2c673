#!/usr/bin/env python3
"""Data-parallel training over MPI ranks (docs/distributed.md): bytes all-reduced per fit, wall
time for 1, 2 and 4 ranks on this machine, and a model of the scaling to 8, 32 and 128 nodes for
a 1-billion-row table on a 25 Gb/s network.

(a) Bytes: what each fit all-reduces, from the formulas the code follows (src/distributed/,
    models/linear/, models/forest/), as a function of features d and classes k; for the
    forest's per-level histogram all-reduce, of features, bins, classes and depth (a full tree:
    an upper bound), beside the bytes a real fit reduced (its debug log line).
(b) Wall time: `tabula train --model ridge|logistic|forest-classifier --test-size 0 --impute
    none --scale none` on ROWS x COLS (default 400,000 x 20; the forest with 10 trees of depth
    at most 12), single process and `mpirun -np N --distributed` for N = 1, 2, 4 (more ranks
    than cores oversubscribe: on a 2-core machine N = 4 measures the overhead, not a speed-up).
(c) Model: time per node = (rows / N) x (measured seconds per row of one process, spread over a
    node's cores) + communication. An all-reduce of B bytes over N nodes (Rabenseifner: a
    reduce-scatter then an all-gather) takes 2 (N - 1) / N x B / bandwidth + 2 log2(N) x
    latency; a reduce-scatter alone half of that. 25 Gb/s, 20 us latency, 16 cores per node,
    1e9 rows. The forest's all-reduce rows model the implemented scheme (each level's
    histograms all-reduced); its reduce-scatter rows a design not implemented (LightGBM's
    data-parallel scheme: histograms reduce-scattered by feature, each rank searching the
    splits of its features, the best splits all-gathered). Its compute constant (1 ns per row,
    level and drawn feature on one core) is assumed, not measured.

    .venv/bin/python benchmarks/distributed/bench_distributed.py   (about 2 minutes)
    .venv/bin/python benchmarks/distributed/bench_distributed.py --rows 20000 --repeats 1
"""
import argparse
import math
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENV = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
MPIRUN = ["mpirun", "--oversubscribe", "--mca", "btl", "self,vader", "--bind-to", "none"]
BANDWIDTH = 25e9 / 8  # bytes per second
LATENCY = 20e-6
NODE_CORES = 16
TOTAL_ROWS = 1e9


def linear_bytes(d, k=1):
    """Per fit: Gram and cross products summed, moments merged (all-gather per rank)."""
    return 8 * (d * d + d * k), 8 * (2 * d + 1) * 2


def logistic_bytes(d, k, newton=True):
    m = 1 if k == 2 else k
    p = d + 1
    return 8 * (1 + m * p + ((m * p) ** 2 if newton else 0))


def forest_level_bytes(d, bins, k, level, max_features=None):
    """Per level of a full tree, as models/forest/forest_builder.cpp reduces: the histograms of
    the nodes built, int64 channels (count + k class weights, or count + weight + weighted sum
    for regression) of the features drawn at each node. With every feature drawn, one child of
    each split is built (the sibling is the parent minus it); with fewer, every node."""
    channels = 1 + k if k else 3
    features = max_features or d
    nodes = max(1, 2 ** level // 2) if features == d else 2 ** level
    return nodes * features * bins * channels * 8


def allreduce_s(nbytes, nodes):
    if nodes == 1:
        return 0.0
    return 2 * (nodes - 1) / nodes * nbytes / BANDWIDTH + 2 * math.log2(nodes) * LATENCY


def reduce_scatter_s(nbytes, nodes):
    if nodes == 1:
        return 0.0
    return (nodes - 1) / nodes * nbytes / BANDWIDTH + math.log2(nodes) * LATENCY


def write_table(path, rows, cols, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, cols))
    y = x @ rng.normal(size=cols) + rng.normal(size=rows)
    label = (y > 0).astype(int)
    data = np.column_stack([x, y, label])
    header = ",".join([f"x{j}" for j in range(cols)] + ["y", "label"])
    np.savetxt(path, data, delimiter=",", header=header, comments="", fmt="%.6g")


def timed(command, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, env=ENV)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"failed: {' '.join(command)}\n{result.stderr}")
        best = min(best, elapsed)
    return best


FOREST_PARAMS = ["--param", "n_estimators=10", "--param", "max_depth=12"]
MODELS = (("ridge", "y", "label", []), ("logistic", "label", "y", []),
          ("forest-classifier", "label", "y", FOREST_PARAMS))


def measure(tabula, data, work, repeats):
    out = {}
    for model, target, drop, params in MODELS:
        args = ["train", "--data", str(data), "--target", target, "--drop", drop, "--model", model,
                "--test-size", "0", "--impute", "none", "--scale", "none",
                "--out", str(work / f"{model}.tabula"), *params]
        out[(model, "single")] = timed([tabula, *args], repeats)
        for ranks in (1, 2, 4):
            out[(model, ranks)] = timed([*MPIRUN, "-np", str(ranks), tabula, *args,
                                         "--distributed"], repeats)
        if model.startswith("forest"):
            out["forest_reduced"] = forest_reduced(tabula, args)
    return out


def forest_reduced(tabula, args):
    """(trees, all-reduces, bytes) of a 2-rank forest fit, from its debug log line."""
    result = subprocess.run([*MPIRUN, "-np", "2", tabula, *args, "--distributed", "--log-level",
                             "debug"], capture_output=True, text=True, env=ENV)
    found = re.search(r"forest: (\d+) trees, (\d+) histogram all-reduces, (\d+) bytes",
                      result.stderr)
    if result.returncode != 0 or not found:
        sys.exit(f"forest fit over 2 ranks failed or logged no bytes:\n{result.stderr}")
    return tuple(int(v) for v in found.groups())


def bytes_tables():
    lines = ["## Bytes all-reduced", "",
             "| fit | d | k | bytes per fit (or per iteration) |", "|---|---|---|---|"]
    for d in (10, 100, 1000):
        summed, gathered = linear_bytes(d)
        lines.append(f"| linear / ridge | {d} | - | {summed:,} summed + {gathered:,} per rank "
                     "gathered |")
    for d, k in ((10, 2), (100, 2), (100, 10)):
        lines.append(f"| logistic, Newton iteration | {d} | {k} | {logistic_bytes(d, k):,} |")
        lines.append(f"| logistic, L-BFGS iteration | {d} | {k} | "
                     f"{logistic_bytes(d, k, newton=False):,} |")
    lines += ["", "Forest: per full tree, levels 0..depth-1, int64 channels, one child per split "
              "built when every feature is drawn, every node otherwise (an upper bound: real "
              "trees stop early; see the measured fit below).", "",
              "| d | bins | classes | depth | max_features | bytes per tree |",
              "|---|---|---|---|---|---|"]
    for d, bins, k, depth, mf in ((28, 256, 2, 12, None), (28, 256, 2, 12, 5),
                                  (100, 256, 10, 12, 10), (100, 256, 0, 12, 33)):
        total = sum(forest_level_bytes(d, bins, k, level, mf) for level in range(depth))
        lines.append(f"| {d} | {bins} | {k or 'regression'} | {depth} | {mf or d} | "
                     f"{total / 1e6:,.1f} MB |")
    return lines


def scaling_tables(measured, rows):
    lines = ["## Predicted scaling, 1e9 rows, 25 Gb/s, 20 us, 16 cores per node", ""]
    # This machine's core-seconds per row of one process (parse + fit, every core of this
    # machine busy), spread over a node's cores.
    lines += ["| fit | nodes | compute per node (s) | all-reduce (s) | total (s) | efficiency |",
              "|---|---|---|---|---|---|"]
    for model in ("ridge", "logistic"):
        per_row = measured[(model, "single")] * os.cpu_count() / rows
        nbytes = linear_bytes(20)[0] if model == "ridge" else 10 * logistic_bytes(20, 2)
        one = TOTAL_ROWS * per_row / NODE_CORES
        for nodes in (8, 32, 128):
            compute = one / nodes
            comm = allreduce_s(nbytes, nodes)
            lines.append(f"| {model} (d=20) | {nodes} | {compute:.1f} | {comm:.4f} | "
                         f"{compute + comm:.1f} | {one / nodes / (compute + comm):.0%} |")
    # Forest: 28 features, 256 bins, binary, depth 12, 100 trees; histogram work per row, level
    # and drawn feature at 1 ns (a measured fit's order on this machine), max_features sqrt(d).
    d, bins, k, depth, trees, mf = 28, 256, 2, 12, 100, 5
    hist_ns = 1e-9
    one = trees * TOTAL_ROWS * depth * mf * hist_ns / NODE_CORES
    for design, exchange in (("all-reduce", allreduce_s), ("reduce-scatter", reduce_scatter_s)):
        for nodes in (8, 32, 128):
            compute = one / nodes
            # One exchange per level of each tree.
            comm = trees * sum(exchange(forest_level_bytes(d, bins, k, level, mf), nodes)
                               for level in range(depth))
            state = "implemented" if design == "all-reduce" else "not implemented"
            lines.append(f"| forest, {design} ({state}; d=28, depth 12, 100 trees) | {nodes} | "
                         f"{compute:.1f} | {comm:.1f} | {compute + comm:.1f} | "
                         f"{compute / (compute + comm):.0%} |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--cols", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tabula", default=str(ROOT / "build" / "release" / "tabula"))
    args = parser.parse_args()
    if shutil.which("mpirun") is None:
        sys.exit("needs mpirun (Debian: openmpi-bin)")
    lines = ["# Distributed training", ""] + bytes_tables() + [""]
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        data = work / "table.csv"
        write_table(data, args.rows, args.cols)
        measured = measure(args.tabula, data, work, args.repeats)
    lines += [f"## Wall time on this machine ({os.cpu_count()} cores), {args.rows:,} x "
              f"{args.cols}, best of {args.repeats}", "",
              "| fit | single process | N=1 | N=2 | N=4 |", "|---|---|---|---|---|"]
    for model, *_ in MODELS:
        cells = [f"{measured[(model, key)]:.2f} s" for key in ("single", 1, 2, 4)]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    trees, reductions, reduced = measured["forest_reduced"]
    features = max(1, int(math.sqrt(args.cols)))
    bound = sum(forest_level_bytes(args.cols, 256, 2, level, features) for level in range(12))
    lines += ["", f"Measured (forest-classifier, {trees} trees, depth <= 12, max_features "
              f"{features} of {args.cols}, 2 ranks): {reductions} histogram all-reduces, "
              f"{reduced / trees / 1e6:,.1f} MB per tree per rank (a full tree's bound: "
              f"{bound / 1e6:,.1f} MB)."]
    lines += [""] + scaling_tables(measured, args.rows)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
