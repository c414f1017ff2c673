#!/usr/bin/env python3
"""tabula forest fit scaling, one factor at a time around a base case, with the work floor.

Base: 100,000 rows x 28 features, 2 classes, max_depth 12, max_features=sqrt, 10 trees; then
features 280 / 784, depth 8 / 16 / None, classes 10 / 100, rows 1,000,000 (28 features).
Data: make_classification(n_informative=min(d, 18), n_clusters_per_class=1, random_state=7).

The floor: a tree's work is, per level, every bootstrap row of a splittable node reading its m
drawn codes (1 byte each) and adding its k int64 channels into a histogram slot per code (k = 1 +
classes), i.e. rows x m x (1 + 8k) bytes touched per level; levels ~ the rows' mean leaf depth,
which the driver reports as the trees' mean depth (an upper estimate for the rows' depth). The
table gives those bytes per fit, the fit time, and ns per (row, level, drawn feature) update.

    .venv/bin/python benchmarks/forest/bench_scaling.py --out benchmarks/results/forest.md
"""
import argparse
import datetime
import json
import math
import os
import pathlib
import platform
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench_wide_deep import emit, timed  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
CACHE = ROOT / "benchmarks" / "data"
BASE = {"rows": 100_000, "features": 28, "classes": 2, "depth": 12}
VARIANTS = [{}, {"features": 280}, {"features": 784}, {"depth": 8}, {"depth": 16},
            {"depth": None}, {"classes": 10}, {"classes": 100}, {"rows": 1_000_000}]


def data(rows, features, classes):
    CACHE.mkdir(parents=True, exist_ok=True)
    stem = CACHE / f"scaling_{rows}x{features}_c{classes}"
    x_path, y_path = stem.with_suffix(".x.npy"), stem.with_suffix(".y.npy")
    if not x_path.exists():
        from sklearn.datasets import make_classification
        x, y = make_classification(n_samples=rows, n_features=features,
                                   n_informative=min(features, 18), n_redundant=0,
                                   n_classes=classes, n_clusters_per_class=1, random_state=7)
        np.save(x_path, x.astype(np.float32))
        np.save(y_path, y.astype(np.float64))
    return x_path, y_path


def fit(driver, case, trees, threads):
    x_path, y_path = data(case["rows"], case["features"], case["classes"])
    out = CACHE / "scaling_pred.npy"
    cmd = [driver, "--train-x", x_path, "--train-y", y_path, "--test-x", x_path, "--out", out,
           "--n-classes", case["classes"], "--threads", threads, "--param",
           f"n_estimators={trees}", "--param", f"max_depth={case['depth'] or 'None'}"]
    stdout, usage = timed(cmd)
    report = json.loads(stdout.strip().splitlines()[-1])
    return report, usage


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trees", type=int, default=10)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--driver", default=os.environ.get("TABULA_FOREST_DRIVER", ""))
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    driver = args.driver or next(str(p) for p in sorted(ROOT.glob("build*/**/bench_forest_driver")))
    lines = ["| rows | features | classes | max_depth | mean depth | leaves/tree | floor GB "
             "(codes + channel adds) | fit s | user s | sys s | max RSS MB | ns per update |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for variant in VARIANTS:
        case = dict(BASE, **variant)
        report, usage = fit(driver, case, args.trees, args.threads)
        m = max(1, int(math.sqrt(case["features"])))
        k = 1 + case["classes"]
        rows_per_tree = case["rows"] * (1 - math.exp(-1))  # distinct bootstrap rows
        levels = report["depth"]["mean"]
        updates = rows_per_tree * levels * m * args.trees
        floor_gb = updates * (1 + 8 * k) / 1e9
        ns = usage["user_s"] / updates * 1e9
        lines.append(f"| {case['rows']:,} | {case['features']} | {case['classes']} | "
                     f"{case['depth'] or 'None'} | {levels:.1f} | {report['leaves']['mean']:,.0f} | "
                     f"{floor_gb:.1f} | {report['fit_s']:.2f} | {usage['user_s']:.1f} | "
                     f"{usage['sys_s']:.1f} | {usage['max_rss_mb']:.0f} | {ns:.1f} |")
        print(lines[-1], flush=True)
    head = [f"### tabula fit scaling, {args.trees} trees, max_features=sqrt, {args.threads} threads",
            "", f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on "
            f"{platform.node()}, command: `.venv/bin/python benchmarks/forest/bench_scaling.py`", ""]
    emit("\n".join(head + lines) + "\n", args.out)


if __name__ == "__main__":
    main()
