#!/usr/bin/env python3
"""Mini-batch k-means: tabula.MiniBatchKMeans vs sklearn.cluster.MiniBatchKMeans in memory, and
`tabula train --model minibatch-kmeans` streaming a CSV file, with its peak memory.

In memory: make_classification(n_samples=ROWS, n_features=28, n_informative=18, n_redundant=4,
random_state=7), standardised, float32 (the table of bench_kmeans.py). Both libraries run their
defaults (batch_size 1024, max_no_improvement 10, n_init "auto" = 1 for k-means++) for each
random_state in --seeds; the table gives the median fit time, steps taken and inertia over every
row, with scikit-learn's full KMeans (one fit, n_init=1) as the floor of what mini-batches can
reach. Threads as --threads (tabula's n_jobs; scikit-learn through threadpoolctl).

Streamed: the same table written to a CSV file (--csv-rows rows; float32 printed with %.6g),
then timed as train runs it: tabula in passes (minibatch-kmeans) and tabula with the file read
whole (kmeans), and pandas.read_csv + StandardScaler + sklearn MiniBatchKMeans. Peak memory is
the largest resident anonymous memory (RssAnon, sampled every 20 ms; a mapped file's pages are
page cache, not counted).

  .venv/bin/python benchmarks/cluster/bench_minibatch.py [--rows 1000000] [--clusters 8 64]
      [--seeds 0 1 2 3 4] [--threads 2] [--csv-rows 4000000] [--csv /tmp/mb.csv]

Needs the build's Python package on PYTHONPATH (build/<config>/python) and --tabula (the CLI).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import tabula


def table(rows):
    x, _ = make_classification(n_samples=rows, n_features=28, n_informative=18, n_redundant=4,
                               random_state=7)
    return StandardScaler().fit_transform(x).astype(np.float32)


def inertia(x, centres):
    """Σ ‖x - nearest centre‖² over every row, in float64, by blocks."""
    total = 0.0
    c = centres.astype(np.float64)
    for begin in range(0, len(x), 100_000):
        block = x[begin:begin + 100_000].astype(np.float64)
        d2 = (block ** 2).sum(1)[:, None] - 2 * block @ c.T + (c ** 2).sum(1)[None, :]
        total += np.maximum(d2.min(1), 0).sum()
    return total


def timed(fit):
    start = time.perf_counter()
    model = fit()
    return time.perf_counter() - start, model


def in_memory(args):
    x = table(args.rows)
    print(f"in memory: {args.rows} rows x 28, {args.threads} threads, seeds {args.seeds}")
    print(f"{'k':>4} {'tabula s':>9} {'sklearn s':>10} {'speed-up':>9} {'tabula steps':>13} "
          f"{'sklearn steps':>14} {'tabula inertia':>15} {'sklearn inertia':>16} "
          f"{'KMeans inertia':>15}")
    for k in args.clusters:
        ours_s, ours_i, theirs_s, theirs_i, ours_n, theirs_n = [], [], [], [], [], []
        tabula.MiniBatchKMeans(k, n_jobs=args.threads).fit(x[:20_000])  # warm-up
        for seed in args.seeds:
            s, m = timed(lambda: tabula.MiniBatchKMeans(k, random_state=seed,
                                                        n_jobs=args.threads).fit(x))
            ours_s.append(s)
            ours_n.append(m.n_steps_)
            ours_i.append(inertia(x, m.cluster_centers_))
            with threadpool_limits(args.threads):
                s, m = timed(lambda: SkMiniBatchKMeans(k, random_state=seed, n_init="auto").fit(x))
            theirs_s.append(s)
            theirs_n.append(m.n_steps_)
            theirs_i.append(inertia(x, m.cluster_centers_))
        with threadpool_limits(args.threads):
            full = SkKMeans(k, n_init=1, random_state=0).fit(x)
        print(f"{k:>4} {np.median(ours_s):>9.3f} {np.median(theirs_s):>10.3f} "
              f"{np.median(theirs_s) / np.median(ours_s):>8.2f}x {np.median(ours_n):>13.0f} "
              f"{np.median(theirs_n):>14.0f} {np.median(ours_i):>15.6g} "
              f"{np.median(theirs_i):>16.6g} {inertia(x, full.cluster_centers_):>15.6g}")


def peak_anon_kb(command):
    """Runs command; returns (seconds, peak RssAnon in KB)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        try:
            with open(f"/proc/{process.pid}/status") as status:
                for line in status:
                    if line.startswith("RssAnon:"):
                        peak = max(peak, int(line.split()[1]))
        except FileNotFoundError:
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"{command[0]} failed: {process.stderr.read().decode()}")
    return seconds, peak


SKLEARN_FROM_CSV = """
import sys, pandas as pd
from sklearn.cluster import MiniBatchKMeans
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits
with threadpool_limits(int(sys.argv[3])):
    x = StandardScaler().fit_transform(pd.read_csv(sys.argv[1]).to_numpy())
    MiniBatchKMeans(int(sys.argv[2]), random_state=0, n_init="auto").fit(x)
"""


def streamed(args):
    path = args.csv or os.path.join(tempfile.gettempdir(), f"bench_minibatch_{args.csv_rows}.csv")
    if not os.path.exists(path):
        x = table(args.csv_rows)
        pd.DataFrame(x, columns=[f"f{i}" for i in range(28)]).to_csv(path + ".part", index=False,
                                                                      float_format="%.6g")
        os.replace(path + ".part", path)
    size_mb = os.path.getsize(path) / 2**20
    print(f"\nstreamed: {path}, {args.csv_rows} rows x 28, {size_mb:.0f} MiB, "
          f"{args.threads} threads")
    print(f"{'k':>4} {'run':<40} {'seconds':>8} {'peak MiB':>9}")
    for k in args.clusters:
        out = os.path.join(tempfile.gettempdir(), "bench_minibatch.tbl")
        runs = [
            ("tabula train minibatch-kmeans (passes)", "minibatch-kmeans"),
            ("tabula train kmeans (file in memory)", "kmeans"),
        ]
        for label, model in runs:
            s, kb = peak_anon_kb([args.tabula, "--threads", str(args.threads), "train", "--model",
                                  model, "--data", path, "--param", f"n_clusters={k}",
                                  "--param", "random_state=0", "--out", out])
            print(f"{k:>4} {label:<40} {s:>8.2f} {kb / 1024:>9.0f}")
        s, kb = peak_anon_kb([sys.executable, "-c", SKLEARN_FROM_CSV, path, str(k),
                              str(args.threads)])
        print(f"{k:>4} {'pandas + sklearn MiniBatchKMeans':<40} {s:>8.2f} {kb / 1024:>9.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clusters", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--csv-rows", type=int, default=4_000_000)
    parser.add_argument("--csv", default="", help="CSV file to stream (written when missing)")
    parser.add_argument("--tabula", default="build/release/tabula")
    parser.add_argument("--skip-streamed", action="store_true")
    args = parser.parse_args()
    in_memory(args)
    if not args.skip_streamed:
        streamed(args)


if __name__ == "__main__":
    main()
