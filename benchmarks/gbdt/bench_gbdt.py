#!/usr/bin/env python3
"""Histogram gradient boosting fit/predict benchmark: tabula vs scikit-learn's
HistGradientBoostingClassifier, LightGBM and XGBoost (tree_method="hist"), side by side on the
same synthetic data and machine.

Data: binary classification, ROWS x 28 float32, the recipe of shared/ANCHORS.md (the forest
benchmark's cached files, benchmarks/forest/bench_forest.py), 80/20 split. Every library grows
ITERATIONS trees of at most 31 leaves (no depth limit) from at most 255 value bins, learning
rate 0.1, min 20 rows per leaf, no L2, no early stopping, THREADS threads. Each library runs in
its own process, so max RSS is its own (the data it loads included).

    .venv/bin/python benchmarks/gbdt/bench_gbdt.py --rows 1000000 --iterations 500 \\
        --out benchmarks/results/gbdt.md

A library that is not installed (requirements-bench.txt) is reported as such and skipped.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import resource
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "forest"))
from bench_forest import make_data, split_paths  # noqa: E402  (the shared data recipe)

LIBRARIES = ["tabula", "scikit-learn", "lightgbm", "xgboost"]


def fit_predict(library, x, y, x_test, iterations, threads):
    """Fits `library`'s model; returns (fit seconds, predict seconds, P(class 1) of x_test)."""
    common = dict(learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=20, max_bins=255,
                  l2_regularization=0.0, early_stopping=False, max_iter=iterations,
                  random_state=0)
    if library == "tabula":
        sys.path.insert(0, str(ROOT / "build" / "cpu" / "python"))
        import tabula
        model = tabula.HistGradientBoostingClassifier(**common, n_jobs=threads)
    elif library == "scikit-learn":
        import threadpoolctl
        from sklearn.ensemble import HistGradientBoostingClassifier
        threadpoolctl.threadpool_limits(threads)
        model = HistGradientBoostingClassifier(**common)
    elif library == "lightgbm":
        import lightgbm
        model = lightgbm.LGBMClassifier(n_estimators=iterations, learning_rate=0.1, num_leaves=31,
                                        max_depth=-1, min_child_samples=20, max_bin=255,
                                        reg_lambda=0.0, min_child_weight=1e-3, subsample=1.0,
                                        colsample_bytree=1.0, n_jobs=threads, verbose=-1,
                                        random_state=0)
    else:
        import xgboost
        model = xgboost.XGBClassifier(n_estimators=iterations, learning_rate=0.1, max_leaves=31,
                                      max_depth=0, grow_policy="lossguide", tree_method="hist",
                                      max_bin=256, reg_lambda=0.0, min_child_weight=1e-3,
                                      n_jobs=threads, random_state=0)
    start = time.perf_counter()
    model.fit(x, y)
    fitted = time.perf_counter()
    proba = model.predict_proba(x_test)[:, 1]
    return fitted - start, time.perf_counter() - fitted, proba


def child(args):
    """One library in this process: prints a JSON line with its figures."""
    from sklearn.metrics import accuracy_score, roc_auc_score
    paths = split_paths(*make_data(args.rows, 28))
    x, y = np.load(paths["xtr"]), np.load(paths["ytr"]).astype(np.int64)
    x_test, y_test = np.load(paths["xte"]), np.load(paths["yte"]).astype(np.int64)
    try:
        fit_s, predict_s, proba = fit_predict(args.child, x, y, x_test, args.iterations,
                                              args.threads)
    except ImportError as e:
        print(json.dumps({"library": args.child, "missing": str(e)}))
        return
    print(json.dumps({"library": args.child, "fit_s": fit_s, "predict_s": predict_s,
                      "accuracy": accuracy_score(y_test, proba > 0.5),
                      "roc_auc": roc_auc_score(y_test, proba),
                      "max_rss_mb": peak_rss_mb()}))


def peak_rss_mb():
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it is not inherited from
    the parent that generated the data)."""
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(args, rows):
    lines = [f"# Histogram gradient boosting: {args.rows:,} x 28, {args.iterations} iterations, "
             f"31 leaves, {args.threads} thread(s)", "",
             f"{datetime.date.today()}, {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs seen (shared with other jobs: timings are indicative), "
             "`benchmarks/gbdt/bench_gbdt.py`.", "",
             "| library | fit s | predict s (20% rows) | test accuracy | test ROC AUC | max RSS MB |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        if "missing" in r:
            lines.append(f"| {r['library']} | not installed | | | | |")
            continue
        lines.append(f"| {r['library']} | {r['fit_s']:.2f} | {r['predict_s']:.2f} | "
                     f"{r['accuracy']:.4f} | {r['roc_auc']:.4f} | {r['max_rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--libraries", default=",".join(LIBRARIES))
    parser.add_argument("--out", type=pathlib.Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    make_data(args.rows, 28)  # once, before the timed children
    rows = []
    for library in args.libraries.split(","):
        out = subprocess.run([sys.executable, __file__, "--child", library, "--rows",
                              str(args.rows), "--iterations", str(args.iterations), "--threads",
                              str(args.threads)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    text = report(args, rows)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
