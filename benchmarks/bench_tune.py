#!/usr/bin/env python3
"""Hyperparameter search benchmark: `tabula tune` against scikit-learn's search classes, side by
side on the same data, the same folds and the same candidates, on one machine.

(a) Ridge, ROWS x COLS (default 1,000,000 x 100), ALPHAS alphas (default 100) x 5 folds (KFold
    without shuffle, r2): `tabula tune --model ridge` vs GridSearchCV(Ridge()) and vs one
    `tabula train --model ridge --test-size 0`. Both sides fit raw features (tabula: --impute
    none --scale none). scikit-learn's full grid takes about half an hour at full size, so it
    runs on --sk-alphas alphas centred on tabula's best and its time is EXTRAPOLATED linearly to
    the whole grid (labelled so in the table); the best alpha is compared on those alphas.
(b) Random forest, FROWS rows (default 250,000) x 28, the shared/ANCHORS.md recipe
    (make_classification, 80/20 split, random_state=7), TRIALS random candidates (default 20)
    x 5 folds (StratifiedKFold, accuracy) with TREES trees each: `tabula tune --search random`
    vs GridSearchCV(RandomForestClassifier(n_jobs=-1)) over exactly tabula's sampled candidate
    list (what RandomizedSearchCV would run on that list). scikit-learn runs --sk-trials of the
    candidates (tabula's best among them) and its time is EXTRAPOLATED to all of them. Test
    score: each side's refitted best model on the same held-out 20%.

Tabula reads CSV (parse time included in its figures); scikit-learn gets the arrays in memory.

Full size (the lead's run, idle machine; about 10 minutes):
    .venv/bin/python benchmarks/bench_tune.py
Small check:
    .venv/bin/python benchmarks/bench_tune.py --rows 20000 --cols 20 --alphas 20 \\
        --forest-rows 5000 --trials 4 --trees 10 --sk-alphas 3 --sk-trials 2
"""
import argparse
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / "data"


def find_tabula(path):
    for c in [path, os.environ.get("TABULA_BIN", ""), ROOT / "build" / "release" / "tabula",
              ROOT / "build" / "cpu" / "tabula", ROOT / "build-lead" / "tabula",
              ROOT / "build-tune" / "tabula"]:
        if c and os.access(str(c), os.X_OK):
            return str(c)
    sys.exit("no tabula binary: pass --tabula or set TABULA_BIN")


def run(cmd):
    start = time.perf_counter()
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{p.stdout}\n{p.stderr}")
    return elapsed, p.stdout


def write_csv(path, x, y, names=None):
    import pandas as pd
    names = names or [f"x{j}" for j in range(x.shape[1])]
    df = pd.DataFrame(x, columns=names)
    df["y"] = y
    df.to_csv(path, index=False, float_format="%.7g")


def ridge_data(rows, cols):
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"tune_ridge_{rows}x{cols}.csv"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, cols)).astype(np.float32)
    w = rng.normal(size=cols) * (rng.random(cols) < 0.3)
    y = x.astype(np.float64) @ w + rng.normal(scale=3.0, size=rows)
    if not path.exists():
        write_csv(path, x, y)
    # What the CSV holds, as the CSV reader sees it (7 significant digits).
    import pandas as pd
    df = pd.read_csv(path)
    return path, df.drop(columns="y").to_numpy(np.float64), df["y"].to_numpy()


def bench_ridge(args, tabula, rows):
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV, KFold

    path, x, y = ridge_data(args.rows, args.cols)
    alphas = np.logspace(-3, 3, args.alphas)
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "tune"
        t_tune, _ = run([tabula, "tune", "--data", path, "--target", "y", "--model", "ridge",
                         "--param", f"alpha=logspace(-3,3,{args.alphas})", "--scheme", "kfold",
                         "--no-shuffle", "--folds", 5, "--test-size", 0, "--metric", "r2",
                         "--impute", "none", "--scale", "none", "--no-progress", "--out", out])
        info = json.loads((out / "leaderboard.json").read_text())
        best = info["leaderboard"][0]
        tabula_alpha = float(best["params"]["alpha"])
        tabula_score = best["metrics"]["r2"]["mean"]
        t_train, _ = run([tabula, "train", "--data", path, "--target", "y", "--model", "ridge",
                          "--test-size", 0, "--impute", "none", "--scale", "none", "--out",
                          pathlib.Path(tmp) / "one.tabula"])
    # scikit-learn on alphas around tabula's best (the extremes of the grid would be as slow).
    i = int(np.argmin(np.abs(alphas - tabula_alpha)))
    lo = max(0, min(i - args.sk_alphas // 2, len(alphas) - args.sk_alphas))
    sk_alphas = alphas[lo:lo + args.sk_alphas]
    search = GridSearchCV(Ridge(), {"alpha": sk_alphas}, cv=KFold(5), scoring="r2", n_jobs=1)
    start = time.perf_counter()
    search.fit(x, y)
    t_sk = time.perf_counter() - start
    t_sk_full = t_sk * len(alphas) / len(sk_alphas)
    sk_alpha = search.best_params_["alpha"]
    rows.append(("ridge", f"{args.rows:,} x {args.cols}, {args.alphas} alphas x 5 folds",
                 f"tabula tune: {t_tune:.2f} s", f"one tabula train: {t_train:.2f} s "
                 f"(tune = {t_tune / t_train:.2f}x)",
                 f"sklearn GridSearchCV(Ridge()): {t_sk:.1f} s for {len(sk_alphas)} alphas, "
                 f"EXTRAPOLATED {t_sk_full:.0f} s for {len(alphas)} "
                 f"(tabula {t_sk_full / t_tune:.0f}x faster)",
                 f"best alpha tabula {tabula_alpha:.4g} (r2 {tabula_score:.6f}), sklearn on its "
                 f"{len(sk_alphas)} {sk_alpha:.4g} (r2 {search.best_score_:.6f}): "
                 f"{'same' if np.isclose(sk_alpha, tabula_alpha, rtol=1e-9) else 'DIFFERENT'}"))


def forest_data(rows):
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    CACHE.mkdir(parents=True, exist_ok=True)
    train_csv = CACHE / f"tune_forest_{rows}_train.csv"
    test_csv = CACHE / f"tune_forest_{rows}_test.csv"
    x, y = make_classification(n_samples=rows, n_features=28, n_informative=18, n_redundant=4,
                               flip_y=0.05, class_sep=0.8, random_state=7)
    x = x.astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=7)
    if not train_csv.exists():
        write_csv(train_csv, xtr, ytr)
        write_csv(test_csv, xte, yte)
    import pandas as pd
    tr, te = pd.read_csv(train_csv), pd.read_csv(test_csv)
    return (train_csv, test_csv, tr.drop(columns="y").to_numpy(np.float32), tr["y"].to_numpy(),
            te.drop(columns="y").to_numpy(np.float32), te["y"].to_numpy())


def sk_value(name, text):
    if name in ("max_depth", "min_samples_leaf"):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def bench_forest(args, tabula, rows):
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    train_csv, test_csv, xtr, ytr, xte, yte = forest_data(args.forest_rows)
    space = ["max_depth=randint(6,20)", "min_samples_leaf=randint(1,20)",
             "max_features=choice(sqrt,log2,0.3)"]
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "tune"
        cmd = [tabula, "tune", "--data", train_csv, "--target", "y", "--model", "forest",
               "--search", "random", "--n-iter", args.trials, "--fixed",
               f"n_estimators={args.trees}", "--folds", 5, "--no-shuffle", "--test-size", 0,
               "--metric", "accuracy", "--seed", 0, "--no-progress", "--out", out, "--param"]
        t_tune, _ = run(cmd + space)
        info = json.loads((out / "leaderboard.json").read_text())
        board = info["leaderboard"]
        pred_csv = pathlib.Path(tmp) / "pred.csv"
        run([tabula, "predict", "--model", out / "model.tabula", "--data", test_csv, "--out",
             pred_csv, "--quiet"])
        pred = pd.read_csv(pred_csv).iloc[:, -1].to_numpy()
        tabula_test = accuracy_score(yte, pred)
    # scikit-learn on a subset of the same candidates, tabula's best among them.
    chosen = board[:1] + board[len(board) - args.sk_trials + 1:] if args.sk_trials > 1 else board[:1]
    grid = [{k: [sk_value(k, v)] for k, v in t["params"].items()} for t in chosen]
    search = GridSearchCV(RandomForestClassifier(n_estimators=args.trees, n_jobs=-1,
                                                 random_state=0),
                          grid, cv=StratifiedKFold(5), scoring="accuracy", n_jobs=1)
    start = time.perf_counter()
    search.fit(xtr, ytr)
    t_sk = time.perf_counter() - start
    t_sk_full = t_sk * len(board) / len(chosen)
    sk_test = accuracy_score(yte, search.best_estimator_.predict(xte))
    tabula_on_chosen = max(t["metrics"]["accuracy"]["mean"] for t in chosen)
    rows.append(("forest", f"{args.forest_rows:,} x 28 ({len(xtr):,} searched), {len(board)} "
                 f"trials x 5 folds, {args.trees} trees",
                 f"tabula tune: {t_tune:.1f} s (path {info['path']})", "",
                 f"sklearn GridSearchCV(RandomForestClassifier(n_jobs=-1)) over the same list: "
                 f"{t_sk:.1f} s for {len(chosen)} trials, EXTRAPOLATED {t_sk_full:.0f} s for "
                 f"{len(board)} (tabula {t_sk_full / t_tune:.1f}x faster)",
                 f"best CV accuracy on those trials: tabula {tabula_on_chosen:.4f}, sklearn "
                 f"{search.best_score_:.4f}; test accuracy: tabula {tabula_test:.4f}, sklearn "
                 f"{sk_test:.4f}"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tabula", default="")
    ap.add_argument("--part", choices=["all", "ridge", "forest"], default="all")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=100)
    ap.add_argument("--alphas", type=int, default=100)
    ap.add_argument("--sk-alphas", type=int, default=3)
    ap.add_argument("--forest-rows", type=int, default=250_000)
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--sk-trials", type=int, default=2)
    args = ap.parse_args()
    tabula = find_tabula(args.tabula)
    rows = []
    if args.part in ("all", "ridge"):
        bench_ridge(args, tabula, rows)
    if args.part in ("all", "forest"):
        bench_forest(args, tabula, rows)
    print(f"## tabula tune vs scikit-learn ({platform.node()}, {os.cpu_count()} CPUs)\n")
    print(f"command: `{' '.join(sys.argv)}`\n")
    print("| search | data | tabula | tabula, one fit | scikit-learn | agreement |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
