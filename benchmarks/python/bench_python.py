#!/usr/bin/env python3
"""The Python package's costs, side by side in one run (issue 17's performance points):

  1. one-row predict: tabula's estimator against the engine call it makes (the Python
     overhead), and scikit-learn's estimator on the same row;
  2. fit through Python against the command line's engine (bench_forest_driver, the same fit
     without Python) on the same float32 table: 1M x 28 by default (benchmarks/forest's data);
  3. tabula's estimators and scikit-learn's in the same GridSearchCV.

    PYTHONPATH=build/cpu/python .venv/bin/python benchmarks/python/bench_python.py \\
        --driver build/cpu/benchmarks/forest/bench_forest_driver
"""
import argparse
import json
import pathlib
import platform
import statistics
import subprocess
import sys
import time
import timeit

import numpy as np
from sklearn import ensemble, linear_model
from sklearn.model_selection import GridSearchCV

import tabula

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "forest"))
import bench_forest  # noqa: E402  (its cached 1M x 28 table)


def best_us(fn, number=2000, repeat=7):
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def one_row(x, y):
    rows = []
    for ours, theirs in [(tabula.RandomForestClassifier(n_estimators=100, random_state=0),
                          ensemble.RandomForestClassifier(n_estimators=100, random_state=0)),
                         (tabula.LogisticRegression(), linear_model.LogisticRegression())]:
        ours.fit(x[:20000], y[:20000])
        theirs.fit(x[:20000], y[:20000])
        row = np.ascontiguousarray(x[:1])
        engine = best_us(lambda: ours._model.apply_matrix("predict_proba", row, "auto", 0))
        python = best_us(lambda: ours.predict_proba(row))
        peer = best_us(lambda: theirs.predict_proba(row), number=200)
        rows.append((type(ours).__name__, python, engine, python - engine, peer))
    print("\n| one-row predict_proba | tabula estimator us | engine call us | Python overhead us "
          "| scikit-learn us |\n| --- | ---: | ---: | ---: | ---: |")
    for name, python, engine, overhead, peer in rows:
        print(f"| {name} | {python:.1f} | {engine:.1f} | {overhead:.1f} | {peer:.1f} |")


def fit_vs_driver(paths, driver, trees):
    x = np.load(paths["xtr"])
    y = np.load(paths["ytr"])
    python_s, driver_s = [], []
    out = paths["xtr"].with_name("bench_python_proba.npy")  # the driver's predictions
    for _ in range(5):  # alternated
        start = time.perf_counter()
        tabula.RandomForestClassifier(n_estimators=trees, max_depth=12, random_state=0).fit(x, y)
        python_s.append(time.perf_counter() - start)
        report = json.loads(subprocess.run(
            [driver, "--train-x", paths["xtr"], "--train-y", paths["ytr"], "--test-x",
             paths["xte"], "--out", out, "--task", "classification", "--n-classes", "2",
             "--param", f"n_estimators={trees}", "--param", "max_depth=12", "--param",
             "random_state=0"], check=True, capture_output=True, text=True).stdout)
        driver_s.append(report["fit_s"])
    med_p, med_d = statistics.median(python_s), statistics.median(driver_s)
    print(f"\n| fit, {x.shape[0]:,} x {x.shape[1]}, {trees} trees, depth 12, 5 runs alternated "
          f"| median s | best s |\n| --- | ---: | ---: |\n| tabula.RandomForestClassifier.fit "
          f"(Python, array in memory, labels encoded) | {med_p:.2f} | {min(python_s):.2f} |\n"
          f"| bench_forest_driver fit_s (C++, no Python) | {med_d:.2f} | {min(driver_s):.2f} |\n"
          f"| ratio | {med_p / med_d:.3f} | {min(python_s) / min(driver_s):.3f} |")


def grid_search(x, y):
    grid = {"C": [0.01, 0.1, 1.0, 10.0]}
    print("\n| GridSearchCV, 4 x C, 5 folds, 100,000 x 28 | fit s | best C | best score |\n"
          "| --- | ---: | ---: | ---: |")
    for name, estimator in [("tabula.LogisticRegression", tabula.LogisticRegression()),
                            ("sklearn LogisticRegression", linear_model.LogisticRegression())]:
        start = time.perf_counter()
        search = GridSearchCV(estimator, grid, cv=5, scoring="roc_auc").fit(x, y)
        print(f"| {name} | {time.perf_counter() - start:.2f} | {search.best_params_['C']} | "
              f"{search.best_score_:.5f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--trees", type=int, default=20)
    args = ap.parse_args()
    x_path, y_path = bench_forest.make_data(args.rows, 28)
    paths = bench_forest.split_paths(x_path, y_path)
    x = np.load(paths["xtr"])
    y = np.load(paths["ytr"])
    print(f"machine: {platform.processor() or platform.machine()}, tabula {tabula.__version__}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    one_row(x, y)
    fit_vs_driver(paths, args.driver, args.trees)
    grid_search(x[:100_000], y[:100_000])


if __name__ == "__main__":
    main()
