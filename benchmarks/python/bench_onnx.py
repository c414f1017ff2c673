#!/usr/bin/env python3
"""ONNX scoring of a random forest, side by side in one run: onnxruntime on tabula's export
(`tabula export --format onnx`), onnxruntime on skl2onnx's export of the equivalent scikit-learn
forest (same data, trees, depth, max_features), and tabula's own predict; rows per second,
median of 5, on the same rows.

    PYTHONPATH=build/cpu/python .venv/bin/python benchmarks/python/bench_onnx.py
"""
import argparse
import os
import platform
import statistics
import tempfile
import time

import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

import tabula


def median_rate(fn, rows, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return rows / statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--depth", type=int, default=10)
    args = ap.parse_args()
    x, y = make_classification(n_samples=args.rows + 20_000, n_features=28, n_informative=18,
                               random_state=7)
    x = x.astype(np.float32)
    x_fit, y_fit, x_score = x[:20_000], y[:20_000], x[20_000:]
    params = dict(n_estimators=args.trees, max_depth=args.depth, random_state=0)
    ours = tabula.RandomForestClassifier(**params).fit(x_fit, y_fit)
    theirs = RandomForestClassifier(**params, n_jobs=-1).fit(x_fit, y_fit)
    options = ort.SessionOptions()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "tabula.onnx")
        ours.to_onnx(path)
        tabula_session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        size = os.path.getsize(path)
    skl = to_onnx(theirs, x_fit[:1], options={id(theirs): {"zipmap": False}})
    skl_session = ort.InferenceSession(skl.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
    x64 = x_score.astype(np.float64)
    skl_name = skl_session.get_inputs()[0].name
    rows = len(x_score)
    results = [
        ("onnxruntime, tabula's export", median_rate(
            lambda: tabula_session.run(None, {"X": x64}), rows)),
        ("onnxruntime, skl2onnx's export of scikit-learn", median_rate(
            lambda: skl_session.run(None, {skl_name: x_score}), rows)),
        ("tabula predict_proba", median_rate(lambda: ours.predict_proba(x_score), rows)),
        ("scikit-learn predict_proba", median_rate(lambda: theirs.predict_proba(x_score), rows)),
    ]
    agree = np.abs(tabula_session.run(None, {"X": x64})[1] - ours.predict_proba(x_score)).max()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} threads; "
          f"onnxruntime {ort.__version__}; {rows:,} rows x 28, {args.trees} trees, depth "
          f"{args.depth}; tabula's ONNX file {size / 1e6:.1f} MB; max |proba difference| "
          f"{agree:.2e}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| scorer | rows/s (median of 5) |\n| --- | ---: |")
    for name, rate in results:
        print(f"| {name} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
