"""Streaming batch scoring: `tabula predict` end to end (read CSV -> pipeline -> model -> write
CSV) against pandas read_csv(chunksize) + a scikit-learn pipeline + to_csv, on the same file and
the same models, in one run; also the time to only parse the file (`predict --check-only`:
the same reader, no scoring, no output), and the peak memory of
`tabula predict` on a ~100 MB and a ~2 GB input. Prints a markdown table.

Full size (the issue's figure; ~1 GB file, several minutes, run on an idle machine):
    .venv/bin/python benchmarks/bench_batch_scoring.py --tabula build/release/tabula
Scoring on a GPU: add --device cuda (the parse-only and memory rows stay on the CPU).
Quick check of the script itself:
    .venv/bin/python benchmarks/bench_batch_scoring.py --tabula build-batch/tabula \
        --rows 50000 --rss-mb 10,40

Generates, when absent, under benchmarks/data/ (ignored by git; fixed seed):
  score_<rows>.csv        20 numeric columns n0..n19 (2% missing), 5 categorical c0..c4
                          (5 to 40 levels, 1% missing), targets `label` (binary) and `y`
  score_train_100000*.csv 100,000 rows of the same distribution, to train on
  score_<N>mb.csv         the scoring file's rows repeated or cut to N MB, for peak memory
Models, trained once per run on the training file by both tabula and scikit-learn with the
same pipeline (numeric: passthrough for the forest, median impute + standard scale for ridge;
categorical: most-frequent impute + one-hot, unknown categories ignored):
  forest: 100 trees, max_depth 10, predict_proba written;  ridge: alpha 1, prediction written.
"""
import argparse
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
SEED = 20261130
TRAIN_ROWS = 100_000
LEVELS = [5, 10, 20, 30, 40]


def make_table(path, rows, seed):
    """Writes the scoring/training CSV in blocks with pyarrow (fast, bounded memory)."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=20)
    effects = [rng.normal(size=k) for k in LEVELS]
    block = 500_000
    with open(path, "wb") as out:
        first = True
        for start in range(0, rows, block):
            n = min(block, rows - start)
            x = rng.normal(size=(n, 20)).round(5)
            cats = [rng.integers(0, k, n) for k in LEVELS]
            score = np.nan_to_num(x) @ weights + sum(e[c] for e, c in zip(effects, cats))
            x[rng.random(size=x.shape) < 0.02] = np.nan
            columns = {f"n{j}": x[:, j] for j in range(20)}
            for j, c in enumerate(cats):
                text = np.array([f"level_{k}" for k in range(LEVELS[j])], dtype=object)[c]
                text[rng.random(n) < 0.01] = None
                columns[f"c{j}"] = pa.array(text, type=pa.string())
            columns["label"] = (score + rng.normal(size=n) > 0).astype(np.int64)
            columns["y"] = (score + rng.normal(scale=0.5, size=n)).round(5)
            options = pacsv.WriteOptions(include_header=first)
            pacsv.write_csv(pa.table(columns), out, write_options=options)
            first = False


def data_file(rows):
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"score_{rows}.csv"
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr)
        make_table(path, rows, SEED)
    return path


def sized_file(base, megabytes):
    """A file of about `megabytes` MB: the base file's rows repeated (or cut)."""
    path = DATA / f"score_{megabytes}mb.csv"
    target = megabytes * 2**20
    if path.exists() and abs(path.stat().st_size - target) < 2**20 + 2**20 // 10:
        return path
    print(f"generating {path} ...", file=sys.stderr)
    with open(base, "rb") as f:
        header = f.readline()
        body = f.read(min(target, base.stat().st_size))
    body = body[: body.rfind(b"\n") + 1]
    with open(path, "wb") as out:
        out.write(header)
        written = len(header)
        while written < target:
            piece = body[: target - written]
            piece = piece[: piece.rfind(b"\n") + 1]
            if not piece:
                break
            out.write(piece)
            written += len(piece)
    return path


def run_child(args):
    """(wall seconds, max RSS in MiB) of one child process; raises on failure. The RSS comes
    from /usr/bin/time: this Python process's own rusage of a child would count the memory of
    the fork (this interpreter, with pandas loaded) before the exec."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "maxrss_kib=%M", *map(str, args)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed:\n{proc.stderr}")
    line = [x for x in proc.stderr.splitlines() if x.startswith("maxrss_kib=")][-1]
    return wall, int(line.split("=")[1]) / 1024


def sklearn_pipeline(kind):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [f"n{j}" for j in range(20)]
    categorical = [f"c{j}" for j in range(5)]
    cat = make_pipeline(SimpleImputer(strategy="most_frequent"),
                        OneHotEncoder(handle_unknown="ignore", sparse_output=False))
    if kind == "forest":
        num = "passthrough"  # scikit-learn forests route NaN natively, as tabula's do
        model = RandomForestClassifier(n_estimators=100, max_depth=10, n_jobs=-1, random_state=0)
    else:
        num = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        model = Ridge(alpha=1.0)
    columns = ColumnTransformer([("numeric", num, numeric), ("categorical", cat, categorical)])
    return Pipeline([("columns", columns), ("model", model)])


def sklearn_job(kind, train, data, out, chunk_rows):
    """Trains (untimed), then times read_csv(chunksize) + predict(_proba) + to_csv."""
    import pandas as pd

    frame = pd.read_csv(train)
    features = [f"n{j}" for j in range(20)] + [f"c{j}" for j in range(5)]
    pipe = sklearn_pipeline(kind)
    pipe.fit(frame[features], frame["label" if kind == "forest" else "y"])
    dtypes = {f"c{j}": object for j in range(5)}
    start = time.perf_counter()
    first = True
    for chunk in pd.read_csv(data, chunksize=chunk_rows, dtype=dtypes):
        x = chunk[features]
        if kind == "forest":
            p = pipe.predict_proba(x)
            result = pd.DataFrame(p, columns=[f"proba_{c}" for c in pipe.classes_])
        else:
            result = pd.DataFrame({"prediction": pipe.predict(x)})
        result.to_csv(out, mode="w" if first else "a", header=first, index=False)
        first = False
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabula", default=str(ROOT / "build" / "release" / "tabula"))
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--chunk-rows", type=int, default=65536)
    parser.add_argument("--rss-mb", default="100,2048",
                        help="input sizes (MB) for the peak-memory rows, comma-separated")
    parser.add_argument("--device", default="cpu",
                        help="tabula --device for scoring (cpu, cuda, auto)")
    parser.add_argument("--skip-sklearn", action="store_true")
    parser.add_argument("--keep-outputs", action="store_true")
    args = parser.parse_args()
    tabula = args.tabula
    data = data_file(args.rows)
    train = DATA / f"score_train_{TRAIN_ROWS}.csv"
    if not train.exists():
        make_table(train, TRAIN_ROWS, SEED + 1)
    # One training file per model, without the other model's target (tabula trains on every
    # column but the target).
    table = pacsv.read_csv(train)
    train_files = {}
    for kind, other in (("forest", "y"), ("ridge", "label")):
        train_files[kind] = DATA / f"score_train_{TRAIN_ROWS}_{kind}.csv"
        if not train_files[kind].exists():
            pacsv.write_csv(table.drop_columns([other]), train_files[kind])
    work = DATA / "batch_out"
    work.mkdir(exist_ok=True)
    size_mb = data.stat().st_size / 2**20
    rows = []

    # Models: tabula's, trained on the training file (untimed).
    models = {}
    for kind, extra in (("forest", ["--target", "label", "--model", "forest", "--param",
                                    "n_estimators=100", "--param", "max_depth=10"]),
                        ("ridge", ["--target", "y", "--model", "ridge", "--param", "alpha=1"])):
        models[kind] = work / f"{kind}.tbl"
        subprocess.run([tabula, "train", "--data", train_files[kind], *extra, "--seed", "0", "--test-size",
                        "0", "--out", models[kind]], check=True, capture_output=True)

    # The parsing floor: the same streaming reader with the model's column types, no scoring
    # and no output (`predict --check-only`); `describe` (whole-file parse with type inference
    # and statistics) for reference.
    parse_s, parse_rss = run_child([tabula, "predict", "--model", models["forest"], "--data",
                                    data, "--check-only", "--quiet"])
    rows.append(("parse only: tabula predict --check-only", parse_s, parse_rss, None))
    t, rss = run_child([tabula, "describe", "--data", data])
    rows.append(("parse + statistics: tabula describe", t, rss, None))
    for kind in ("forest", "ridge"):
        flags = ["--proba"] if kind == "forest" else []
        out = work / f"tabula_{kind}.csv"
        t, rss = run_child([tabula, "predict", "--model", models[kind], "--data", data, "--out",
                            out, "--chunk-rows", str(args.chunk_rows), "--quiet", "--device",
                            args.device, *flags])
        rows.append((f"tabula predict, {kind} ({args.device})", t, rss, kind))
        if not args.keep_outputs:
            out.unlink()
    peer = {}
    if not args.skip_sklearn:
        for kind in ("forest", "ridge"):
            out = work / f"sklearn_{kind}.csv"
            t = sklearn_job(kind, train, data, out, args.chunk_rows)
            peer[kind] = t
            rows.append((f"pandas + scikit-learn, {kind}", t, None, kind))
            if not args.keep_outputs:
                out.unlink()

    print(f"\n{args.rows:,} rows x (20 numeric + 5 categorical), {size_mb:.0f} MB, chunks of "
          f"{args.chunk_rows:,} rows, {os.cpu_count()} CPUs\n")
    print("| job | seconds | rows/s | MB/s | max RSS MiB | vs parse only | tabula speedup |")
    print("|---|---|---|---|---|---|---|")
    tabula_time = {r[3]: r[1] for r in rows if r[0].startswith("tabula predict")}
    for name, t, rss, kind in rows:
        speed = ""
        if name.startswith("pandas") and kind in tabula_time:
            speed = f"{t / tabula_time[kind]:.1f}x"
        print(f"| {name} | {t:.2f} | {args.rows / t:,.0f} | {size_mb / t:.0f} | "
              f"{'' if rss is None else f'{rss:.0f}'} | {t / parse_s:.2f}x | {speed} |")

    print("\nPeak memory of `tabula predict` (ridge, default chunk) by input size:\n")
    print("| input | rows/s | max RSS MiB |")
    print("|---|---|---|")
    for mb in (int(v) for v in args.rss_mb.split(",")):
        path = sized_file(data, mb)
        out = work / "rss.csv"
        t, rss = run_child([tabula, "predict", "--model", models["ridge"], "--data", path,
                            "--out", out, "--quiet"])
        lines = sum(1 for _ in open(out, "rb")) - 1
        out.unlink()
        print(f"| {path.stat().st_size / 2**20:,.0f} MB | {lines / t:,.0f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
