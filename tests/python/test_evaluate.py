"""`tabula evaluate`: its curves and matrices equal scikit-learn's on the same predictions, every
supervised model kind of the registry evaluates, permutation importance finds the one column
the target depends on, and bad input fails with a message naming what is wrong and no output."""
import csv
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import (accuracy_score, confusion_matrix, precision_recall_curve, r2_score,
                             roc_curve)

from conftest import DATA


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def svgs_parse(html):
    """Every inline chart is well-formed XML; returns how many there are."""
    charts = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    for chart in charts:
        ET.fromstring(chart)
    return len(charts)


def evaluate(run_tabula, tmp_path, model, data, *extra, name="e"):
    report, out = tmp_path / f"{name}.html", tmp_path / f"{name}.json"
    run_tabula("evaluate", "--model", model, "--data", data, "--report", report, "--json", out,
               *extra)
    return json.loads(out.read_text()), report.read_text()


def predicted(run_tabula, tmp_path, model, data):
    out = tmp_path / "p.csv"
    run_tabula("predict", "--model", model, "--data", data, "--out", out, "--proba")
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], dtype=float)


@pytest.fixture(scope="module")
def binary_table(tmp_path_factory):
    rng = np.random.default_rng(5)
    n = 500
    x = rng.normal(size=(n, 3))
    y = (x[:, 0] + 0.7 * rng.normal(size=n) > 0).astype(int)
    path = tmp_path_factory.mktemp("binary") / "b.csv"
    return write_csv(path, ["a", "b", "c", "y"],
                     [[f"{v:.6f}" for v in x[i]] + [y[i]] for i in range(n)]), y


@pytest.mark.parametrize("kind", ["logistic", "forest"])  # distinct scores; many tied scores
def test_binary_curves_equal_sklearn(run_tabula, tmp_path, binary_table, kind):
    data, y = binary_table
    model = tmp_path / "m.tbl"
    run_tabula("train", "--data", data, "--target", "y", "--model", kind, "--out", model)
    e, html = evaluate(run_tabula, tmp_path, model, data)
    header, proba = predicted(run_tabula, tmp_path, model, data)
    assert header == ["proba_0", "proba_1"]
    score = proba[:, 1]
    fpr, tpr, thresholds = roc_curve(y, score)  # drop_intermediate=True, as tabula
    (roc,) = e["roc"]
    assert roc["class"] == "1"
    np.testing.assert_allclose(roc["fpr"], fpr, rtol=0, atol=1e-12)
    np.testing.assert_allclose(roc["tpr"], tpr, rtol=0, atol=1e-12)
    assert roc["thresholds"][0] is None and np.isinf(thresholds[0])
    np.testing.assert_allclose(roc["thresholds"][1:], thresholds[1:], rtol=0, atol=1e-12)
    assert roc["auc"] == pytest.approx(e["metrics"]["roc_auc"], abs=1e-12)
    precision, recall, pr_thresholds = precision_recall_curve(y, score)
    (pr,) = e["precision_recall"]
    np.testing.assert_allclose(pr["precision"], precision, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pr["recall"], recall, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pr["thresholds"], pr_thresholds, rtol=0, atol=1e-12)
    prob_true, prob_pred = calibration_curve(y, score, n_bins=10)
    (cal,) = e["calibration"]
    np.testing.assert_allclose(cal["prob_true"], prob_true, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cal["prob_pred"], prob_pred, rtol=0, atol=1e-12)
    assert sum(cal["count"]) == len(y)
    labels = (score > 0.5).astype(int)  # argmax of two columns; no exact 0.5 ties here
    assert e["confusion_matrix"] == confusion_matrix(y, labels).tolist()
    assert e["metrics"]["accuracy"] == pytest.approx(accuracy_score(y, labels), abs=1e-12)
    assert svgs_parse(html) >= 6  # confusion, ROC, PR, calibration, importances


def test_multiclass_one_vs_rest_curves(run_tabula, tmp_path):
    model = tmp_path / "w.tbl"
    data = DATA / "wine.csv"
    run_tabula("train", "--data", data, "--target", "target", "--model", "logistic", "--out",
               model)
    e, html = evaluate(run_tabula, tmp_path, model, data)
    header, proba = predicted(run_tabula, tmp_path, model, data)
    with open(data, newline="") as f:
        y = np.array([int(r["target"]) for r in csv.DictReader(f)])
    assert e["classes"] == ["0", "1", "2"] and len(e["roc"]) == 3
    for c, roc in enumerate(e["roc"]):
        fpr, tpr, _ = roc_curve(y == c, proba[:, c])
        np.testing.assert_allclose(roc["fpr"], fpr, rtol=0, atol=1e-12)
        np.testing.assert_allclose(roc["tpr"], tpr, rtol=0, atol=1e-12)
    assert e["confusion_matrix"] == confusion_matrix(y, proba.argmax(axis=1)).tolist()
    assert html.count("<polyline") == 9  # three classes in each of the three curve charts


def supervised_kinds(run_tabula):
    listed = json.loads(run_tabula("models", "--json").stdout)
    return [(m["name"], t) for m in listed for t in m["tasks"]
            if t not in ("transform", "clustering")]


TABLES = {"classification": [("titanic.csv", "survived"), ("wine.csv", "target")],
          "regression": [("diabetes.csv", "target")]}


def test_every_registered_kind_evaluates(run_tabula, tmp_path):
    kinds = supervised_kinds(run_tabula)
    assert {("forest", "classification"), ("ridge", "regression")} <= set(kinds)
    for kind, task in kinds:
        for file, target in TABLES[task]:
            model = tmp_path / f"{kind}-{task}.tbl"
            run_tabula("train", "--data", DATA / file, "--target", target, "--model", kind,
                       "--task", task, "--out", model)
            e, html = evaluate(run_tabula, tmp_path, model, DATA / file, "--n-repeats", "2")
            assert e["task"] == task
            assert e["rows"] > 100
            assert all(v is None or np.isfinite(v) for v in e["metrics"].values())
            columns = {c["column"] for c in e["permutation_importance"]["columns"]}
            assert target not in columns and len(columns) >= 3
            if task == "classification":
                assert np.sum(e["confusion_matrix"]) == e["rows"]
                assert "<svg" in html and "Confusion matrix" in html
            else:
                assert e["points"]["rows"] == e["rows"]
                assert "Residuals vs predicted" in html
            assert svgs_parse(html) >= 3, (kind, task, file)


@pytest.mark.parametrize("kind,task", [("pca", "transform"), ("kmeans", "clustering")])
def test_unsupervised_models_are_refused(run_tabula, tmp_path, kind, task):
    model = tmp_path / f"{kind}.tbl"
    run_tabula("train", "--data", DATA / "wine.csv", "--drop", "target", "--model", kind,
               "--out", model)
    r = run_tabula("evaluate", "--model", model, "--data", DATA / "wine.csv", "--target",
                   "target", "--report", tmp_path / "r.html", expect=1)
    assert task in r.stderr and "supervised" in r.stderr
    assert not (tmp_path / "r.html").exists()


@pytest.fixture(scope="module")
def signal_table(tmp_path_factory):
    """y depends on `signal` only; `noise` and the text column `city` are irrelevant."""
    rng = np.random.default_rng(11)
    n = 600
    signal, noise = rng.normal(size=n), rng.normal(size=n)
    city = rng.choice(["paris", "rome", "oslo"], size=n)
    folder = tmp_path_factory.mktemp("signal")
    rows = lambda y: [[f"{signal[i]:.5f}", f"{noise[i]:.5f}", city[i], y[i]] for i in range(n)]
    cls = write_csv(folder / "c.csv", ["signal", "noise", "city", "y"],
                    rows(np.where(signal > 0, "up", "down")))
    reg = write_csv(folder / "r.csv", ["signal", "noise", "city", "y"],
                    rows([f"{3 * s + 0.1 * rng.normal():.5f}" for s in signal]))
    return cls, reg


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_permutation_importance_finds_the_signal(run_tabula, tmp_path, signal_table, task):
    data = signal_table[0 if task == "classification" else 1]
    model = tmp_path / "m.tbl"
    run_tabula("train", "--data", data, "--target", "y", "--model", "forest", "--out", model)
    e, _ = evaluate(run_tabula, tmp_path, model, data, "--seed", "3")
    p = e["permutation_importance"]
    assert p["metric"] == ("accuracy" if task == "classification" else "r2")
    by_column = {c["column"]: c for c in p["columns"]}
    assert set(by_column) == {"signal", "noise", "city"}  # raw columns: city is one feature
    assert by_column["signal"]["mean"] > 0.3
    for column in ("noise", "city"):
        assert abs(by_column[column]["mean"]) < 0.03, by_column[column]
    assert p["columns"][0]["column"] == "signal"
    assert len(by_column["signal"]["drops"]) == 5
    again, _ = evaluate(run_tabula, tmp_path, model, data, "--seed", "3", name="again")
    other, _ = evaluate(run_tabula, tmp_path, model, data, "--seed", "4", name="other")
    assert again["permutation_importance"] == p
    assert other["permutation_importance"]["columns"] != p["columns"]
    if task == "regression":
        actual, pred = np.array(e["points"]["actual"]), np.array(e["points"]["predicted"])
        assert e["metrics"]["r2"] == pytest.approx(r2_score(actual, pred), abs=1e-9)


def test_bad_input_names_the_problem_and_writes_nothing(run_tabula, tmp_path, signal_table):
    data = signal_table[0]
    model = tmp_path / "m.tbl"
    run_tabula("train", "--data", data, "--target", "y", "--model", "logistic", "--out", model)
    report, out = tmp_path / "r.html", tmp_path / "r.json"

    def refused(data_path, *extra):
        r = run_tabula("evaluate", "--model", model, "--data", data_path, "--report", report,
                       "--json", out, *extra, expect=1)
        assert not report.exists() and not out.exists()
        assert list(tmp_path.glob(".r.*")) == []  # no temporary file left behind
        return r.stderr

    assert "missing.csv" in refused(tmp_path / "missing.csv")
    with open(data) as f:
        lines = f.read().splitlines()
    unseen = write_csv(tmp_path / "unseen.csv", [], [])
    unseen.write_text("\n".join(lines[:5] + ["0.1,0.2,rome,sideways"] + lines[5:9]) + "\n")
    err = refused(unseen)
    assert "data row 5" in err and "'sideways'" in err and "'y'" in err
    gap = tmp_path / "gap.csv"
    gap.write_text("\n".join(lines[:3] + ["0.1,0.2,rome,"] + lines[3:9]) + "\n")
    err = refused(gap)
    assert "missing value" in err and "data row 3" in err
    no_target = tmp_path / "no_target.csv"
    no_target.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines[:9]) + "\n")
    err = refused(no_target)
    assert "'y'" in err and "target" in err
    assert "'label'" in refused(data, "--target", "label")


def test_hostile_names_are_escaped(run_tabula, tmp_path):
    rng = np.random.default_rng(2)
    n = 120
    x = rng.normal(size=n)
    name = "<script>alert(1)</script>"
    data = write_csv(tmp_path / "h.csv", [name, "b&c", "y"],
                     [[f"{x[i]:.4f}", f"{rng.normal():.4f}", "<b>yes</b>" if x[i] > 0 else "no"]
                      for i in range(n)])
    model = tmp_path / "m.tbl"
    run_tabula("train", "--data", data, "--target", "y", "--model", "forest", "--out", model)
    e, html = evaluate(run_tabula, tmp_path, model, data)
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;yes&lt;/b&gt;" in html
    assert {c["column"] for c in e["permutation_importance"]["columns"]} == {name, "b&c"}
    svgs_parse(html)


@pytest.mark.parametrize("file,target,model,param", [
    ("titanic.csv", "survived", "forest", "max_depth=[3,6]"),
    ("diabetes.csv", "target", "ridge", "alpha=[0.1,1]")])
def test_tune_report_draws_the_best_model_on_the_test_set(run_tabula, tmp_path, file, target,
                                                          model, param):
    out = tmp_path / "search"
    run_tabula("tune", "--data", DATA / file, "--target", target, "--model", model, "--param",
               param, "--folds", "3", "--test-size", "0.25", "--no-progress", "--out", out)
    info = json.loads((out / "leaderboard.json").read_text())
    e = info["test_evaluation"]
    assert e["rows"] == info["scheme"]["test_rows"]
    # The same numbers as the search's own test scoring of the refitted best.
    metric = info["metric"]
    if metric in e["metrics"]:
        assert e["metrics"][metric] == pytest.approx(info["test"][metric], abs=1e-12)
    html = (out / "report.html").read_text()
    assert "Best model on the test set" in html
    charts = svgs_parse(html)
    assert charts >= (len(info["best"]["params"]) + (6 if e["task"] == "classification" else 4))
    if e["task"] == "classification":
        assert np.sum(e["confusion_matrix"]) == e["rows"]
