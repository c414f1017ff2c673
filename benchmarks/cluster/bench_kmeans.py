#!/usr/bin/env python3
"""Side-by-side k-means fit times: tabula.KMeans vs sklearn.cluster.KMeans, per algorithm.

Data: make_classification(n_samples=ROWS, n_features=28, n_informative=18, n_redundant=4,
random_state=7), standardised, float32 (as the HIGGS-like tables of issue 19). Both libraries
start from the same centres (ROWS drawn with a fixed seed, passed as `init`), run n_init=1 and
exactly --iters iterations (tol=0), so they do the same work; the quality columns check that
they reach the same inertia. One fit each, after a small warm-up fit; threads as --threads
(tabula's n_jobs; scikit-learn through threadpoolctl). Each algorithm (lloyd, elkan) is timed
in both libraries; the speed-up is against scikit-learn's same algorithm, and the last column
against scikit-learn's faster one.

  .venv/bin/python benchmarks/cluster/bench_kmeans.py [--rows 1000000] [--clusters 8 64]
      [--iters 20] [--threads 2] [--algorithms lloyd elkan]

Needs the build's Python package on PYTHONPATH (build/<config>/python).
"""
import argparse
import time

import numpy as np
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import tabula


def timed(fit):
    start = time.perf_counter()
    model = fit()
    return time.perf_counter() - start, model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clusters", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--algorithms", nargs="+", default=["lloyd", "elkan"])
    args = parser.parse_args()

    x, _ = make_classification(n_samples=args.rows, n_features=28, n_informative=18,
                               n_redundant=4, random_state=7)
    x = StandardScaler().fit_transform(x).astype(np.float32)
    print(f"{args.rows} rows x 28, {args.iters} iterations, {args.threads} threads")
    print(f"{'k':>4} {'algorithm':>9} {'tabula s':>10} {'sklearn s':>10} {'speed-up':>9} "
          f"{'vs best':>8} {'inertia ratio':>14}")
    for k in args.clusters:
        start = x[np.random.default_rng(k).choice(len(x), k, replace=False)]
        common = dict(n_clusters=k, init=start, n_init=1, max_iter=args.iters, tol=0.0)
        rows = []
        for algorithm in args.algorithms:
            ours_model = dict(common, algorithm=algorithm, n_jobs=args.threads)
            tabula.KMeans(**ours_model).fit(x[:10_000])  # warm-up
            ours_s, ours = timed(lambda: tabula.KMeans(**ours_model).fit(x))
            with threadpool_limits(args.threads):
                SkKMeans(**common, algorithm=algorithm).fit(x[:10_000])
                theirs_s, theirs = timed(lambda: SkKMeans(**common, algorithm=algorithm).fit(x))
            rows.append((algorithm, ours_s, theirs_s, ours.inertia_ / theirs.inertia_))
        best = min(theirs_s for _, _, theirs_s, _ in rows)
        for algorithm, ours_s, theirs_s, ratio in rows:
            print(f"{k:>4} {algorithm:>9} {ours_s:>10.3f} {theirs_s:>10.3f} "
                  f"{theirs_s / ours_s:>8.2f}x {best / ours_s:>7.2f}x {ratio:>14.6f}")


if __name__ == "__main__":
    main()
