#!/usr/bin/env python3
"""Random forest fit/predict benchmark: tabula vs scikit-learn, XGBoost (XGBRFClassifier) and
LightGBM (boosting="rf"), side by side on the same synthetic data and machine.

Data: binary classification, ROWS x 28 float32, the recipe of shared/ANCHORS.md
(make_classification(n_informative=18, n_redundant=4, flip_y=0.05, class_sep=0.8,
random_state=7), 80/20 split with random_state=7). Every library grows the same number of trees of the same
depth with sqrt(d) features per node and ~63% of the rows per tree. Each library runs in its
own process so max RSS is its own (the data it loads included).

    .venv/bin/python benchmarks/forest/bench_forest.py --trees 20 --out benchmarks/results/forest.md

The tabula side is bench_forest_driver (benchmarks/forest/forest_driver.cpp), found at
--driver / $TABULA_FOREST_DRIVER or in build*/.
"""
import argparse
import datetime
import json
import math
import os
import pathlib
import platform
import resource
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
CACHE = ROOT / "benchmarks" / "data"


def make_data(rows, cols, seed=7):
    """Cached float32 data set, the recipe of shared/ANCHORS.md: returns paths of x and y."""
    CACHE.mkdir(parents=True, exist_ok=True)
    stem = CACHE / f"anchors_{rows}x{cols}_s{seed}"
    x_path, y_path = stem.with_suffix(".x.npy"), stem.with_suffix(".y.npy")
    if not x_path.exists():
        from sklearn.datasets import make_classification
        x, y = make_classification(n_samples=rows, n_features=cols, n_informative=18,
                                   n_redundant=4, flip_y=0.05, class_sep=0.8, random_state=seed)
        np.save(x_path, x.astype(np.float32))
        np.save(y_path, y.astype(np.float64))
    return x_path, y_path


def split_paths(x_path, y_path, seed=7):
    """80/20 split files next to the data (sklearn's train_test_split, random_state=7)."""
    out = {k: x_path.with_name(x_path.name.replace(".x.npy", f".{k}.npy"))
           for k in ("xtr", "ytr", "xte", "yte")}
    if not out["xtr"].exists():
        from sklearn.model_selection import train_test_split
        x, y = np.load(x_path), np.load(y_path)
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=seed)
        np.save(out["xtr"], np.ascontiguousarray(x_tr))
        np.save(out["ytr"], y_tr)
        np.save(out["xte"], np.ascontiguousarray(x_te))
        np.save(out["yte"], y_te)
    return out


def auc(y, score):
    from sklearn.metrics import roc_auc_score
    return float(roc_auc_score(y, score))


# ---- workers (one process per library) ----------------------------------------------------------

def worker(lib, paths, trees, depth, threads):
    x_tr, y_tr = np.load(paths["xtr"]), np.load(paths["ytr"])
    x_te, y_te = np.load(paths["xte"]), np.load(paths["yte"])
    x_all = np.concatenate([x_tr, x_te])  # 1M rows for prediction throughput
    d = x_tr.shape[1]
    frac = max(1, int(math.sqrt(d))) / d
    if lib == "sklearn":
        from sklearn.ensemble import RandomForestClassifier
        model = RandomForestClassifier(n_estimators=trees, max_depth=depth, max_features="sqrt",
                                       n_jobs=-1, random_state=0)
        predict = lambda x: model.predict_proba(x)[:, 1]
    elif lib == "xgboost":
        from xgboost import XGBRFClassifier
        model = XGBRFClassifier(n_estimators=trees, max_depth=depth, subsample=0.632,
                                colsample_bynode=frac, tree_method="hist", max_bin=256,
                                n_jobs=threads, random_state=0)
        predict = lambda x: model.predict_proba(x)[:, 1]
    elif lib == "lightgbm":
        from lightgbm import LGBMClassifier
        model = LGBMClassifier(boosting_type="rf", n_estimators=trees, max_depth=depth,
                               num_leaves=2 ** depth, bagging_fraction=0.632, bagging_freq=1,
                               feature_fraction_bynode=frac, max_bin=255, min_child_samples=1,
                               min_child_weight=0.0, n_jobs=threads, random_state=0, verbose=-1)
        predict = lambda x: model.predict_proba(x)[:, 1]
    else:
        raise ValueError(lib)
    start = time.perf_counter()
    model.fit(x_tr, y_tr)
    fit_s = time.perf_counter() - start
    score = predict(x_te)
    start = time.perf_counter()
    predict(x_all)
    predict_s = time.perf_counter() - start
    return {"lib": lib, "fit_s": fit_s, "auc": auc(y_te, score), "predict_rows": len(x_all),
            "predict_s": predict_s,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def find_driver(explicit):
    candidates = [explicit, os.environ.get("TABULA_FOREST_DRIVER", "")]
    for build in sorted(ROOT.glob("build*")):
        candidates += [str(p) for p in build.glob("**/bench_forest_driver")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    sys.exit("bench_forest_driver not found: build it or pass --driver")


def run_tabula(driver, paths, trees, depth, threads, predict_all=True):
    tmp = paths["xtr"].with_name("tabula_proba.npy")
    test_x = paths["xte"]
    if predict_all:  # predict on train + test (1M rows) for throughput; AUC on the test part
        all_path = paths["xtr"].with_name(paths["xtr"].name.replace(".xtr.", ".xall."))
        if not all_path.exists():
            np.save(all_path, np.concatenate([np.load(paths["xtr"]), np.load(paths["xte"])]))
        test_x = all_path
    cmd = ["/usr/bin/time", "-f", "MAXRSS_KB %M", driver, "--train-x", paths["xtr"], "--train-y",
           paths["ytr"], "--test-x", test_x, "--out", tmp, "--param", f"n_estimators={trees}",
           "--param", f"max_depth={depth}", "--threads", str(threads)]
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    rss_kb = [int(l.split()[1]) for l in result.stderr.splitlines() if l.startswith("MAXRSS_KB")]
    proba = np.load(tmp)[:, 1]
    y_te = np.load(paths["yte"])
    score = proba[-len(y_te):]
    return {"lib": "tabula", "fit_s": report["fit_s"], "auc": auc(y_te, score),
            "predict_rows": report["test_rows"], "predict_s": report["predict_s"],
            "max_rss_mb": rss_kb[0] / 1024 if rss_kb else float("nan")}


def run_worker(lib, paths, trees, depth, threads):
    cmd = [sys.executable, __file__, "--worker", lib, "--trees", str(trees), "--depth", str(depth),
           "--threads", str(threads), "--paths", json.dumps({k: str(v) for k, v in paths.items()})]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        return {"lib": lib, "error": result.stderr.strip().splitlines()[-1:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(rows):
    lines = ["| library | fit s | test AUC | predict rows/s | max RSS MB |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['lib']} | error: {r['error']} | | | |")
            continue
        lines.append(f"| {r['lib']} | {r['fit_s']:.2f} | {r['auc']:.4f} | "
                     f"{r['predict_rows'] / r['predict_s']:,.0f} | {r['max_rss_mb']:.0f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--trees", type=int, default=20)
    ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--libs", default="tabula,sklearn,xgboost,lightgbm")
    ap.add_argument("--scaling", action="store_true", help="tabula fit at 100k/300k/1M rows, 28/280 features")
    ap.add_argument("--peer-trees", default="",
                    help="lib=N,...: fit these peers with N trees and scale their fit time to "
                         "--trees (random forest fit time is linear in trees); marked in the table")
    ap.add_argument("--driver", default="")
    ap.add_argument("--out", default="")
    ap.add_argument("--worker", default="")
    ap.add_argument("--paths", default="")
    args = ap.parse_args()
    if args.worker:
        paths = {k: pathlib.Path(v) for k, v in json.loads(args.paths).items()}
        print(json.dumps(worker(args.worker, paths, args.trees, args.depth, args.threads)))
        return

    driver = find_driver(args.driver)
    paths = split_paths(*make_data(args.rows, 28))
    peer_trees = dict((kv.split("=")[0], int(kv.split("=")[1]))
                      for kv in args.peer_trees.split(",") if kv)
    rows = []
    for lib in args.libs.split(","):
        trees = peer_trees.get(lib, args.trees)
        r = (run_tabula(driver, paths, args.trees, args.depth, args.threads) if lib == "tabula"
             else run_worker(lib, paths, trees, args.depth, args.threads))
        if trees != args.trees and "fit_s" in r:
            r["lib"] = f"{lib} ({trees} trees, fit time x{args.trees / trees:g})"
            r["fit_s"] *= args.trees / trees
        print(json.dumps(r), flush=True)
        rows.append(r)
    load = os.getloadavg()
    md = [f"## Random forest, {args.rows:,} x 28 (80/20), {args.trees} trees, max_depth {args.depth}, "
          f"{args.threads} threads",
          "",
          f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()} "
          f"({os.cpu_count()} cores; load average at the end {load[0]:.1f}), command:",
          "",
          f"    .venv/bin/python benchmarks/forest/bench_forest.py --rows {args.rows} --trees {args.trees} "
          f"--depth {args.depth}" + (f" --peer-trees {args.peer_trees}" if args.peer_trees else "")
          + (" --scaling" if args.scaling else ""),
          "",
          table(rows),
          "",
          "Predict: probabilities for all rows (train + test). Same trees, depth, sqrt(d) features per "
          "node; sklearn and tabula bootstrap, XGBoost and LightGBM subsample 63.2% without "
          "replacement (their random-forest modes have no bootstrap)."]
    if args.scaling:
        md += ["", "### tabula fit time scaling (same settings)", "",
               "| rows | features | fit s | s per 100k rows |", "| ---: | ---: | ---: | ---: |"]
        for n, d in [(100_000, 28), (300_000, 28), (1_000_000, 28), (100_000, 280)]:
            p = split_paths(*make_data(n, d))
            r = run_tabula(driver, p, args.trees, args.depth, args.threads, predict_all=False)
            md.append(f"| {n:,} | {d} | {r['fit_s']:.2f} | {r['fit_s'] / (n / 100_000):.2f} |")
            print(md[-1], flush=True)
    text = "\n".join(md) + "\n"
    print(text)
    if args.out:
        out = pathlib.Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "a") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
