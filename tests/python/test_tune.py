"""`tabula tune`: fold sizes against scikit-learn's splitters, the experiment spec, and resume
after SIGKILL (the final leaderboard equals an uninterrupted run's)."""
import csv
import json
import os
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, TimeSeriesSplit

from conftest import ROOT


def make_table(path, n=503, seed=0, groups=False, classes=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    y = x @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(scale=0.3, size=n)
    df = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    if classes:
        # Unbalanced, in sorted blocks of the file: the allocation matters.
        y = np.sort(np.digitize(y, [-1.5, 0.8]))
    if groups:
        # Distinct group sizes (no ties in GroupKFold's ordering).
        sizes = np.arange(1, 40)
        g = np.repeat(np.arange(len(sizes)), sizes)[:n]
        df["g"] = np.concatenate([g, np.full(n - len(g), len(sizes))])
    df["t"] = np.arange(n)[::-1]  # time runs backwards through the file
    df["y"] = y
    df.to_csv(path, index=False)
    return df


def fold_sizes(out):
    info = json.loads((out / "leaderboard.json").read_text())
    return [tuple(s) for s in info["scheme"]["fold_sizes"]], info


def test_fold_sizes_match_sklearn(run_tabula, tmp_path):
    data = tmp_path / "t.csv"
    df = make_table(data, groups=True)
    common = ["--data", data, "--target", "y", "--model", "ridge", "--param", "alpha=[1]",
              "--test-size", "0", "--no-progress"]

    run_tabula("tune", *common, "--scheme", "kfold", "--folds", "7", "--out", tmp_path / "k")
    ours, _ = fold_sizes(tmp_path / "k")
    theirs = [(len(tr), len(te)) for tr, te in KFold(7).split(df)]
    assert ours == theirs

    run_tabula("tune", *common, "--group-column", "g", "--folds", "5", "--out", tmp_path / "g")
    ours, info = fold_sizes(tmp_path / "g")
    assert info["scheme"]["kind"] == "group"
    theirs = [(len(tr), len(te)) for tr, te in GroupKFold(5).split(df, groups=df["g"])]
    assert sorted(ours) == sorted(theirs)

    run_tabula("tune", *common, "--time-column", "t", "--folds", "4", "--out", tmp_path / "ts")
    ours, info = fold_sizes(tmp_path / "ts")
    assert info["scheme"]["kind"] == "time"
    theirs = [(len(tr), len(te)) for tr, te in TimeSeriesSplit(4).split(df)]
    assert ours == theirs


def test_stratified_fold_sizes_match_sklearn(run_tabula, tmp_path):
    data = tmp_path / "c.csv"
    df = make_table(data, classes=True)
    run_tabula("tune", "--data", data, "--target", "y", "--model", "logistic", "--param",
               "C=[1]", "--test-size", "0", "--folds", "5", "--no-progress", "--out",
               tmp_path / "s")
    ours, info = fold_sizes(tmp_path / "s")
    assert info["scheme"]["kind"] == "stratified"
    theirs = [(len(tr), len(te)) for tr, te in StratifiedKFold(5).split(df, df["y"])]
    assert ours == theirs


def test_experiment_spec_example_runs(run_tabula, tmp_path):
    spec = ROOT / "examples" / "experiment.toml"
    run_tabula("tune", "--spec", spec, "--out", tmp_path / "e", "--no-progress")
    board = list(csv.DictReader(open(tmp_path / "e" / "leaderboard.csv")))
    assert len(board) >= 2
    info = json.loads((tmp_path / "e" / "leaderboard.json").read_text())
    assert info["metric"] == "neg_mean_squared_error"
    assert (tmp_path / "e" / "model.tabula").exists()
    html = (tmp_path / "e" / "report.html").read_text()
    assert "<svg" in html and "baseline" in html
    # The saved model scores new data through its pipeline.
    run_tabula("predict", "--model", tmp_path / "e" / "model.tabula", "--data",
               ROOT / "tests" / "data" / "regression_small.csv", "--out", tmp_path / "p.csv")


def board_without_times(path):
    rows = list(csv.DictReader(open(path)))
    for r in rows:
        r.pop("mean_fit_time")
        r.pop("mean_score_time")
    return rows


def test_resume_after_sigkill_equals_uninterrupted(tabula_bin, run_tabula, tmp_path):
    data = tmp_path / "k.csv"
    make_table(data, n=3000, classes=True)
    args = ["tune", "--data", str(data), "--target", "y", "--model", "forest",
            "--param", "max_depth=[2,3,4,5,6,7,8,9,10,11,12,13]", "--fixed", "n_estimators=20",
            "--folds", "3", "--seed", "4", "--no-progress"]

    run_tabula(*args, "--out", tmp_path / "full")
    expected = board_without_times(tmp_path / "full" / "leaderboard.csv")
    assert len(expected) == 12

    out = tmp_path / "killed"
    journal = out / "journal.jsonl"
    proc = subprocess.Popen([tabula_bin, *args, "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    lines = 0
    while time.time() < deadline and proc.poll() is None:
        if journal.exists():
            lines = journal.read_text().count("\n")
            if lines >= 1:
                break
        time.sleep(0.01)
    assert proc.poll() is None, "the search finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    lines = journal.read_text().count("\n")
    assert 1 <= lines < 12
    assert not (out / "leaderboard.csv").exists()

    result = run_tabula(*args, "--out", out)
    assert f"{lines} resumed from the journal" in result.stdout
    assert board_without_times(out / "leaderboard.csv") == expected
