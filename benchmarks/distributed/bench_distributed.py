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
    1e9 rows. The forest rows model the implemented scheme (models/forest/hist_reduce.cpp) and,
    for comparison, the previous one (every level's int64 histograms all-reduced, every rank
    drawing all n bootstrap draws of each tree). Implemented, per tree and rank: the bootstrap
    (n / N draws, 12 ns each on one core, measured), the root sums (one small all-reduce), then
    per level a batch of at least 256 KiB is reduce-scattered over (node, feature) units as
    int32 (a classifier's node totals are below 2^31 at 1e9 rows), each rank scans 1/N of the
    units, and the winners go through one small all-reduce ((nodes + N) x 8 words); a smaller
    batch is all-reduced and scanned by every rank; a batch of at least 4 x 256 KiB is cut into
    4 node batches, each reduce-scattered while the next is built (the exposed part: the last
    batch's reduce-scatter and any excess over the building). Once per fit: the binning sample's
    all-gather (200,000 x d floats). Compute constants: 1 ns per row, level and drawn feature
    for the histograms (a measured fit's order, assumed) and 2 ns per node, feature and bin for
    the split scan (assumed), each on one core.

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


def forest_level_nodes(d, level, max_features=None, implemented=True):
    """Nodes whose histograms a full tree reduces at `level`. With every feature drawn, one
    child of each split is built (the sibling is the parent minus it): the implemented scheme
    subtracts each rank's own histograms and reduces both children (a reduce-scatter of both
    moves the bytes an all-reduce of one did), the previous one reduced the built child only.
    With fewer features drawn, every node."""
    features = max_features or d
    if features == d and not implemented:
        return max(1, 2 ** level // 2)
    return 2 ** level


def forest_level_bytes(d, bins, k, level, max_features=None, word=8, implemented=True):
    """Per level of a full tree, as models/forest/forest_builder.cpp reduces: the histograms of
    the nodes built, channels (count + k class weights, or count + weight + weighted sum for
    regression) of the features drawn at each node, `word` bytes a value (int64, or int32 when
    a classifier's node totals are below 2^31)."""
    channels = 1 + k if k else 3
    features = max_features or d
    return (forest_level_nodes(d, level, max_features, implemented) * features * bins * channels
            * word)


def allreduce_s(nbytes, nodes):
    if nodes == 1:
        return 0.0
    return 2 * (nodes - 1) / nodes * nbytes / BANDWIDTH + 2 * math.log2(nodes) * LATENCY


def reduce_scatter_s(nbytes, nodes):
    if nodes == 1:
        return 0.0
    return (nodes - 1) / nodes * nbytes / BANDWIDTH + math.log2(nodes) * LATENCY


def allgather_s(nbytes, nodes):
    """Every rank gets all `nbytes` (each contributes 1/N)."""
    return reduce_scatter_s(nbytes, nodes)


SCATTER_MIN_BYTES = 256 << 10  # models/forest/forest_builder.hpp, kScatterMinBytes
DRAW_S = 12e-9  # one bootstrap draw on one core (docs/distributed.md)
HIST_S = 1e-9   # histogram work per row, level and drawn feature on one core (assumed)
SCAN_S = 2e-9   # split scan per node, feature and bin on one core (assumed)


OVERLAP_BATCHES = 4  # models/forest/forest_builder.hpp, kOverlapBatches


def forest_per_node(nodes, rows, d, bins, k, depth, trees, mf, implemented=True, overlap=False):
    """(compute, communication, bootstrap) seconds per node for a full forest (see (c)).
    overlap: each level of at least OVERLAP_BATCHES x 256 KiB cut into OVERLAP_BATCHES node
    batches whose reduce-scatter runs while the next batch's histograms are built (only the
    excess over the building and the last batch's reduce-scatter stay exposed)."""
    channels = 1 + k if k else 3
    hist = trees * rows / nodes * depth * mf * HIST_S / NODE_CORES
    draws = rows / nodes if implemented else rows
    bootstrap = trees * draws * DRAW_S / NODE_CORES
    comm = allgather_s(200_000 * d * 4, nodes)  # the binning sample, once
    scan = 0.0
    word = 4 if implemented and k and rows < 2 ** 31 else 8
    for level in range(depth):
        nbytes = forest_level_bytes(d, bins, k, level, mf, word, implemented)
        units = forest_level_nodes(d, level, mf, implemented) * mf
        per_tree_scan = units * bins * SCAN_S / NODE_CORES
        if implemented and nodes > 1 and nbytes >= SCATTER_MIN_BYTES:
            winners = (forest_level_nodes(d, level, mf, implemented) + nodes) * (5 + channels) * 8
            scatter = reduce_scatter_s(nbytes, nodes)
            if overlap and nbytes >= OVERLAP_BATCHES * SCATTER_MIN_BYTES:
                level_hist = rows / nodes * mf * HIST_S / NODE_CORES
                hidden = (OVERLAP_BATCHES - 1) / OVERLAP_BATCHES
                scatter = scatter / OVERLAP_BATCHES + max(0.0, (scatter - level_hist) * hidden)
            comm += trees * (scatter + allreduce_s(winners, nodes))
            scan += trees * per_tree_scan / nodes
        else:
            comm += trees * allreduce_s(nbytes, nodes)
            scan += trees * per_tree_scan
    comm += trees * allreduce_s(8 * channels, nodes)  # the root sums
    return hist + scan, comm, bootstrap


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
    """(trees, collectives, batches reduce-scattered, bytes) of a 2-rank forest fit, from its
    debug log line."""
    result = subprocess.run([*MPIRUN, "-np", "2", tabula, *args, "--distributed", "--log-level",
                             "debug"], capture_output=True, text=True, env=ENV)
    found = re.search(r"forest: (\d+) trees, (\d+) histogram collectives \((\d+) batches "
                      r"reduce-scattered\), (\d+) bytes", result.stderr)
    if result.returncode != 0 or not found:
        sys.exit(f"forest fit over 2 ranks failed or logged no bytes:\n{result.stderr}")
    return tuple(int(v) for v in found.groups())


def bytes_tables():
    lines = ["## Bytes reduced", "",
             "| fit | d | k | bytes per fit (or per iteration) |", "|---|---|---|---|"]
    for d in (10, 100, 1000):
        summed, gathered = linear_bytes(d)
        lines.append(f"| linear / ridge | {d} | - | {summed:,} summed + {gathered:,} per rank "
                     "gathered |")
    for d, k in ((10, 2), (100, 2), (100, 10)):
        lines.append(f"| logistic, Newton iteration | {d} | {k} | {logistic_bytes(d, k):,} |")
        lines.append(f"| logistic, L-BFGS iteration | {d} | {k} | "
                     f"{logistic_bytes(d, k, newton=False):,} |")
    lines += ["", "Forest: histogram bytes reduced per full tree (levels 0..depth-1; an upper "
              "bound: real trees stop early; see the measured fit below), the previous scheme "
              "(int64, built children only when every feature is drawn) beside the implemented "
              "one (int32 for a classifier whose node totals are below 2^31, both children "
              "reduced when every feature is drawn; a reduce-scattered batch moves about half "
              "its bytes over the wire, an all-reduced one about twice).", "",
              "| d | bins | classes | depth | max_features | previous | implemented |",
              "|---|---|---|---|---|---|---|"]
    for d, bins, k, depth, mf in ((28, 256, 2, 12, None), (28, 256, 2, 12, 5),
                                  (100, 256, 10, 12, 10), (100, 256, 0, 12, 33)):
        old = sum(forest_level_bytes(d, bins, k, level, mf, 8, False) for level in range(depth))
        new = sum(forest_level_bytes(d, bins, k, level, mf, 4 if k else 8)
                  for level in range(depth))
        lines.append(f"| {d} | {bins} | {k or 'regression'} | {depth} | {mf or d} | "
                     f"{old / 1e6:,.1f} MB | {new / 1e6:,.1f} MB |")
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
    # Forest: 28 features, 256 bins, binary, depth 12, 100 trees, max_features sqrt(d).
    d, bins, k, depth, trees, mf = 28, 256, 2, 12, 100, 5
    lines += ["", "Forest, d=28, 256 bins, binary, depth 12 (full trees), 100 trees, "
              "max_features sqrt = 5; compute = histograms + split scan, bootstrap apart:", "",
              "| scheme | nodes | compute (s) | bootstrap (s) | communication (s) | total (s) "
              "| efficiency |", "|---|---|---|---|---|---|---|"]
    schemes = ((True, True, "blocked bootstrap, reduce-scatter, int32, reduction overlapped "
                "with the next node batch's histograms (implemented)"),
               (True, False, "the same without the overlap (an MPI without "
                "MPI_THREAD_SERIALIZED)"),
               (False, False, "previous: all draws per rank, int64 all-reduce"))
    for implemented, overlap, name in schemes:
        c1, _, b1 = forest_per_node(1, TOTAL_ROWS, d, bins, k, depth, trees, mf, implemented)
        for nodes in (8, 32, 128):
            compute, comm, boot = forest_per_node(nodes, TOTAL_ROWS, d, bins, k, depth, trees,
                                                  mf, implemented, overlap)
            total = compute + comm + boot
            lines.append(f"| {name} | {nodes} | {compute:.1f} | {boot:.1f} | {comm:.1f} | "
                         f"{total:.1f} | {(c1 + b1) / nodes / total:.0%} |")
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
    trees, collectives, scattered, reduced = measured["forest_reduced"]
    features = max(1, int(math.sqrt(args.cols)))
    bound = sum(forest_level_bytes(args.cols, 256, 2, level, features, 4) for level in range(12))
    lines += ["", f"Measured (forest-classifier, {trees} trees, depth <= 12, max_features "
              f"{features} of {args.cols}, 2 ranks): {collectives} histogram collectives "
              f"({scattered} batches reduce-scattered), {reduced / trees / 1e6:,.1f} MB of "
              f"histograms reduced per tree per rank (int32 where it fits; a reduce-scatter "
              f"sends about half its batch; a full tree's int32 bound: {bound / 1e6:,.1f} MB)."]
    lines += [""] + scaling_tables(measured, args.rows)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
