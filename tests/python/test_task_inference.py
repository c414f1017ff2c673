"""The task train and tune choose, as scikit-learn's type_of_target, announced on stderr, and
overridden with --task; class labels keep the training file's spelling."""
import json

import numpy as np
import pytest
from sklearn.utils.multiclass import type_of_target


def write(path, y, n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    with open(path, "w") as f:
        f.write("a,b,y\n")
        for i in range(n):
            f.write(f"{x[i, 0]:.4f},{x[i, 1]:.4f},{y[i % len(y)]}\n")
    return path


def chosen_task(stderr):
    lines = [l for l in stderr.splitlines() if "task: " in l]
    assert len(lines) == 1, stderr
    return lines[0].split("task: ", 1)[1].split(" ", 1)[0]


@pytest.mark.parametrize("labels", [
    [str(v) for v in range(12)],              # 12 distinct integers: multiclass, not regression
    [f"{v}.0" for v in range(12)],            # the same written as floats
    ["0", "1"],                               # binary
    ["1.5", "2", "3"],                        # one fraction: continuous
    ["cat", "dog", "eel"],                    # text
])
def test_task_follows_type_of_target(run_tabula, tmp_path, labels):
    data = write(tmp_path / "t.csv", labels)
    r = run_tabula("train", "--data", data, "--target", "y", "--model", "forest", "--param",
                   "n_estimators=3", "--test-size", "0", "--out", tmp_path / "m.tabula")
    try:
        values = np.array([float(label) for label in labels])  # as pandas reads the column
    except ValueError:
        values = np.array(labels, dtype=object)
    theirs = type_of_target(values)
    want = "regression" if theirs == "continuous" else "classification"
    assert chosen_task(r.stderr) == want, (labels, theirs, r.stderr)
    info = json.loads(run_tabula("inspect", "--json", tmp_path / "m.tabula").stdout)
    assert info["model"]["task"] == want
    assert info["training"]["task_reason"] in r.stderr
    if want == "classification":
        # Sorted as scikit-learn sorts them, spelt as written.
        key = float if values.dtype != object else str
        assert info["class_labels"] == sorted(set(labels), key=key)


def test_task_flag_overrides_inference_in_train_and_tune(run_tabula, tmp_path):
    data = write(tmp_path / "t.csv", [str(v) for v in range(12)])
    r = run_tabula("train", "--data", data, "--target", "y", "--model", "forest", "--param",
                   "n_estimators=3", "--task", "regression", "--out", tmp_path / "m.tabula")
    assert chosen_task(r.stderr) == "regression" and "--task" in r.stderr
    r = run_tabula("tune", "--data", data, "--target", "y", "--model", "forest", "--fixed",
                   "n_estimators=3", "--folds", 2, "--task", "regression", "--no-progress",
                   "--out", tmp_path / "tune")
    assert chosen_task(r.stderr) == "regression"
    board = json.loads((tmp_path / "tune" / "leaderboard.json").read_text())
    assert board["task"] == "regression"
    best = json.loads(run_tabula("inspect", "--json", tmp_path / "tune" / "model.tabula").stdout)
    assert best["model"]["task"] == "regression"
    assert best["training"]["task_reason"] == "asked for with --task"
    # The spec file's task key does the same.
    spec = tmp_path / "spec.toml"
    spec.write_text(f'data = "{data}"\ntarget = "y"\nmodel = "dummy"\ntask = "regression"\n'
                    '[scheme]\nfolds = 2\n')
    r = run_tabula("tune", "--spec", spec, "--no-progress", "--out", tmp_path / "tune2")
    assert chosen_task(r.stderr) == "regression"
    r = run_tabula("tune", "--data", data, "--target", "y", "--model", "forest", "--fixed",
                   "n_estimators=3", "--folds", 2, "--test-size", 0, "--no-progress", "--out",
                   tmp_path / "tune3")
    assert chosen_task(r.stderr) == "classification"


def test_models_that_cannot_do_the_task_say_so(run_tabula, tmp_path):
    continuous = write(tmp_path / "c.csv", ["0.5", "1.5", "2.25"])
    r = run_tabula("train", "--data", continuous, "--target", "y", "--model", "logistic",
                   "--out", tmp_path / "m.tabula", expect=1)
    assert "model 'logistic' does classification only" in r.stderr and "continuous" in r.stderr
    r = run_tabula("train", "--data", continuous, "--target", "y", "--model", "ridge",
                   "--task", "classification", "--out", tmp_path / "m.tabula", expect=1)
    assert "model 'ridge' does regression, not classification" in r.stderr
    words = write(tmp_path / "w.csv", ["cat", "dog"])
    r = run_tabula("tune", "--data", words, "--target", "y", "--model", "linear", "--folds", 2,
                   "--no-progress", "--out", tmp_path / "t", expect=1)
    assert "model 'linear' does regression only" in r.stderr and "text labels" in r.stderr
    assert not (tmp_path / "m.tabula").exists()
