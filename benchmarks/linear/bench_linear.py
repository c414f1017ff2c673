#!/usr/bin/env python3
"""Side-by-side fit times: tabula vs scikit-learn for OLS, ridge, logistic regression and PCA.

Data (ANCHORS.md recipes, fixed seeds), cached as .npy under benchmarks/data/:
  regression:     make_regression(n_samples=ROWS, n_features=100, n_informative=60, noise=5.0,
                  random_state=7), float32
  classification: make_classification(n_samples=ROWS, n_features=28, n_informative=18,
                  n_redundant=4, flip_y=0.05, class_sep=0.8, random_state=7), float32, 80/20
                  split (random_state=7); models train on the 80 %.
tabula runs through build*/benchmarks/bench_linear (median of --repeat fits, upload included);
scikit-learn runs in this process (one fit each, its defaults unless stated). The quality
columns check that both fitted the same model.

  .venv/bin/python benchmarks/linear/bench_linear.py [--rows 1000000] [--threads 2]
      [--device cpu] [--skip-sklearn] [--out benchmarks/results/linear.md]
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import subprocess
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]


def find_bench(explicit):
    if explicit:
        return explicit
    found = [p for p in ROOT.glob("build*/benchmarks/bench_linear") if os.access(p, os.X_OK)]
    found += [p for p in ROOT.glob("build/*/benchmarks/bench_linear") if os.access(p, os.X_OK)]
    if not found:
        raise SystemExit("bench_linear not found: build the bench_linear target or pass --bench")
    return str(max(found, key=lambda p: p.stat().st_mtime))


def cached(path, make):
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, make())
    return np.load(path)


def datasets(rows):
    from sklearn.datasets import make_classification, make_regression
    from sklearn.model_selection import train_test_split

    folder = ROOT / "benchmarks" / "data"
    reg_x, reg_y = folder / f"reg_{rows}_x.npy", folder / f"reg_{rows}_y.npy"
    if not (reg_x.exists() and reg_y.exists()):
        x, y = make_regression(n_samples=rows, n_features=100, n_informative=60, noise=5.0,
                               random_state=7)
        folder.mkdir(parents=True, exist_ok=True)
        np.save(reg_x, x.astype(np.float32))
        np.save(reg_y, y)
    names = [folder / f"clf_{rows}_{part}.npy" for part in ("xtr", "ytr", "xte", "yte")]
    if not all(p.exists() for p in names):
        x, y = make_classification(n_samples=rows, n_features=28, n_informative=18,
                                   n_redundant=4, flip_y=0.05, class_sep=0.8, random_state=7)
        parts = train_test_split(x.astype(np.float32), y.astype(np.float64), test_size=0.2,
                                 random_state=7)
        for path, part in zip(names, [parts[0], parts[2], parts[1], parts[3]]):
            np.save(path, part)
    return (reg_x, reg_y), tuple(names)


def run_tabula(bench, x, y, model, params, repeat, threads, device):
    args = [bench, "--x", x, "--model", model, "--repeat", repeat, "--threads", threads,
            "--device", device]
    if y is not None:
        args += ["--y", y]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    result = subprocess.run(list(map(str, args)), capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"bench_linear failed: {result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def rel_diff(a, b):
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(np.abs(a - b).max() / np.abs(b).max())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--bench", default="")
    parser.add_argument("--skip-sklearn", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "linear.md"))
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import sklearn
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.metrics import r2_score, roc_auc_score

    load_before = os.getloadavg()[0]
    bench = find_bench(args.bench)
    (reg_x, reg_y), (xtr, ytr, xte, yte) = datasets(args.rows)
    x = np.load(reg_x)
    y = np.load(reg_y)
    rows = []

    def tabula(xp, yp, model, params):
        return run_tabula(bench, xp, yp, model, params, args.repeat, args.threads, args.device)

    def add(workload, ours, peer_name, peer_seconds, quality):
        speedup = f"{peer_seconds / ours['median_seconds']:.1f}x" if peer_seconds else "-"
        rows.append((workload, f"{ours['median_seconds']:.3f}", peer_name,
                     f"{peer_seconds:.2f}" if peer_seconds else "-", speedup, quality))
        print(rows[-1], flush=True)

    # OLS and ridge.
    for model, params, make in [("linear", {}, LinearRegression),
                                ("ridge", {"alpha": 1.0}, lambda: Ridge(alpha=1.0))]:
        ours = tabula(reg_x, reg_y, model, params)
        coef = np.ravel(ours["summary"]["coef_"])
        r2 = r2_score(y, x @ coef + ours["summary"]["intercept_"])
        quality = f"R2 {r2:.5f}"
        peer_seconds = None
        if not args.skip_sklearn:
            peer_seconds, peer = timed(lambda: make().fit(x, y))
            quality += f", max coef diff {rel_diff(coef, peer.coef_):.1e} (rel.)"
        add(f"{model} fit, {args.rows:,} x 100", ours, type(make()).__name__, peer_seconds,
            quality)

    # PCA, 10 components.
    ours = tabula(reg_x, None, "pca", {"n_components": 10})
    quality = f"top ratio {ours['summary']['explained_variance_ratio_'][0]:.4f}"
    peer_seconds = None
    if not args.skip_sklearn:
        peer_seconds, peer = timed(lambda: PCA(n_components=10, svd_solver="full").fit(x))
        quality += (", explained variance diff "
                    f"{rel_diff(ours['summary']['explained_variance_'], peer.explained_variance_):.1e}")
    add(f"PCA(10) fit, {args.rows:,} x 100", ours, 'PCA(svd_solver="full")', peer_seconds,
        quality)
    del x

    # Logistic regression, default tolerance (1e-4) on both sides.
    x_train, y_train = np.load(xtr), np.load(ytr)
    x_test, y_test = np.load(xte), np.load(yte)
    ours = tabula(xtr, ytr, "logistic", {})
    coef = np.asarray(ours["summary"]["coef_"])
    auc = roc_auc_score(y_test, x_test @ coef.ravel() + ours["summary"]["intercept_"][0])
    quality = f"test AUC {auc:.4f} ({ours['summary']['solver']}, {ours['summary']['n_iter_']} it.)"
    peer_seconds = None
    if not args.skip_sklearn:
        peer_seconds, peer = timed(lambda: LogisticRegression().fit(x_train, y_train))
        peer_auc = roc_auc_score(y_test, peer.decision_function(x_test))
        quality += f"; sklearn AUC {peer_auc:.4f} ({peer.n_iter_[0]} it.)"
    add(f"logistic fit, {len(y_train):,} x 28", ours, "LogisticRegression(lbfgs)", peer_seconds,
        quality)

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [
        "# Linear models, logistic regression and PCA: tabula vs scikit-learn",
        "",
        f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC. "
        f"Machine: {cpu}, {os.cpu_count()} hardware threads; tabula --threads {args.threads} "
        f"on {args.device}, scikit-learn {sklearn.__version__} (OpenBLAS threads "
        f"{os.environ['OPENBLAS_NUM_THREADS']}), numpy {np.__version__}.",
        "",
        "Command:",
        "",
        "```",
        f".venv/bin/python benchmarks/linear/bench_linear.py --rows {args.rows} "
        f"--threads {args.threads} --repeat {args.repeat} --device {args.device}"
        + (" --skip-sklearn" if args.skip_sklearn else ""),
        "```",
        "",
        "tabula time: median of the repeats, from host arrays (upload to the device included); "
        "scikit-learn: one fit. Data: ANCHORS.md recipes (see the script's docstring). "
        f"1-minute load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the "
        "end (other work on the machine slows both sides). Coefficient differences: "
        "scikit-learn keeps float32 input in float32 (its lstsq / Cholesky run in single "
        "precision), tabula accumulates in float64.",
        "",
        "| workload | tabula (s) | peer | peer (s) | speed-up | quality |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
