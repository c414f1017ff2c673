#!/usr/bin/env python3
"""Histogram gradient boosting fit/predict benchmark: tabula vs scikit-learn's
HistGradientBoostingClassifier, LightGBM and XGBoost (tree_method="hist"), side by side on the
same synthetic data and machine.

Data: binary classification, ROWS x 28 float32, the recipe of shared/ANCHORS.md (the forest
benchmark's cached files, benchmarks/forest/bench_forest.py), 80/20 split; or, with --table, a
real table of another shape from benchmarks/forest/bench_wide_deep.py (diamonds: 43,152 x 26
regression; pixels: 20,000 x 784, 10 classes; digits: load_digits). Every library grows
ITERATIONS trees of at most 31 leaves (no depth limit) from at most 255 value bins, learning
rate 0.1, min 20 rows per leaf, no L2, no early stopping, THREADS threads. Each library runs in
its own process, so max RSS is its own (the data it loads included).

    .venv/bin/python benchmarks/gbdt/bench_gbdt.py --rows 1000000 --iterations 500 \\
        --out benchmarks/results/gbdt.md
    .venv/bin/python benchmarks/gbdt/bench_gbdt.py --table diamonds --iterations 300

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
from bench_wide_deep import DATASETS, load, quality  # noqa: E402  (the real tables)

LIBRARIES = ["tabula", "scikit-learn", "lightgbm", "xgboost"]


def fit_predict(library, task, x, y, x_test, iterations, threads):
    """Fits `library`'s model for `task`; returns (fit seconds, predict seconds, predictions of
    x_test: class probabilities for classification, values for regression)."""
    classify = task == "classification"
    common = dict(learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=20, max_bins=255,
                  l2_regularization=0.0, early_stopping=False, max_iter=iterations,
                  random_state=0)
    if library == "tabula":
        sys.path.insert(0, str(ROOT / "build" / "cpu" / "python"))
        import tabula
        model = (tabula.HistGradientBoostingClassifier if classify
                 else tabula.HistGradientBoostingRegressor)(**common, n_jobs=threads)
    elif library == "scikit-learn":
        import threadpoolctl
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
        threadpoolctl.threadpool_limits(threads)
        model = (HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor)(
            **common)
    elif library == "lightgbm":
        import lightgbm
        cls = lightgbm.LGBMClassifier if classify else lightgbm.LGBMRegressor
        model = cls(n_estimators=iterations, learning_rate=0.1, num_leaves=31, max_depth=-1,
                    min_child_samples=20, max_bin=255, reg_lambda=0.0, min_child_weight=1e-3,
                    subsample=1.0, colsample_bytree=1.0, n_jobs=threads, verbose=-1,
                    random_state=0)
    else:
        import xgboost
        cls = xgboost.XGBClassifier if classify else xgboost.XGBRegressor
        model = cls(n_estimators=iterations, learning_rate=0.1, max_leaves=31, max_depth=0,
                    grow_policy="lossguide", tree_method="hist", max_bin=256, reg_lambda=0.0,
                    min_child_weight=1e-3, n_jobs=threads, random_state=0)
    start = time.perf_counter()
    model.fit(x, y)
    fitted = time.perf_counter()
    pred = model.predict_proba(x_test) if classify else model.predict(x_test)
    return fitted - start, time.perf_counter() - fitted, pred


def child(args):
    """One library in this process: prints a JSON line with its figures."""
    from sklearn.metrics import roc_auc_score
    if args.table == "synthetic":
        paths, task = split_paths(*make_data(args.rows, 28)), "classification"
    else:
        paths, task = load(args.table), DATASETS[args.table][1]
    x, y = np.load(paths["xtr"]), np.load(paths["ytr"])
    x_test, y_test = np.load(paths["xte"]), np.load(paths["yte"])
    if task == "classification":
        y, y_test = y.astype(np.int64), y_test.astype(np.int64)
    try:
        fit_s, predict_s, pred = fit_predict(args.child, task, x, y, x_test, args.iterations,
                                             args.threads)
    except ImportError as e:
        print(json.dumps({"library": args.child, "missing": str(e)}))
        return
    binary = task == "classification" and pred.shape[1] == 2
    print(json.dumps({"library": args.child, "fit_s": fit_s, "predict_s": predict_s,
                      "quality": quality(task, y_test, pred),
                      "roc_auc": roc_auc_score(y_test, pred[:, 1]) if binary else None,
                      "max_rss_mb": peak_rss_mb()}))


def peak_rss_mb():
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it is not inherited from
    the parent that generated the data)."""
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(args, rows):
    if args.table == "synthetic":
        table, metric = f"{args.rows:,} x 28", "accuracy"
    else:
        table = args.table
        metric = "accuracy" if DATASETS[args.table][1] == "classification" else "R2"
    lines = [f"# Histogram gradient boosting: {table}, {args.iterations} iterations, "
             f"31 leaves, {args.threads} thread(s)", "",
             f"{datetime.date.today()}, {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs seen (shared with other jobs: timings are indicative), "
             "`benchmarks/gbdt/bench_gbdt.py`.", "",
             f"| library | fit s | predict s (test rows) | test {metric} | test ROC AUC | "
             "max RSS MB |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        if "missing" in r:
            lines.append(f"| {r['library']} | not installed | | | | |")
            continue
        auc = "" if r["roc_auc"] is None else f"{r['roc_auc']:.4f}"
        lines.append(f"| {r['library']} | {r['fit_s']:.2f} | {r['predict_s']:.2f} | "
                     f"{r['quality']:.4f} | {auc} | {r['max_rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--table", default="synthetic", choices=["synthetic", *DATASETS],
                        help="synthetic (--rows x 28) or a real table of bench_wide_deep.py")
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
    if args.table == "synthetic":  # once, before the timed children
        make_data(args.rows, 28)
    else:
        load(args.table)
    rows = []
    for library in args.libraries.split(","):
        out = subprocess.run([sys.executable, __file__, "--child", library, "--table", args.table,
                              "--rows", str(args.rows), "--iterations", str(args.iterations),
                              "--threads", str(args.threads)], capture_output=True, text=True,
                             check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    text = report(args, rows)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
