"""`tabula compare` (champion a against challenger b): a stronger model wins its metrics with the
direction of each (log loss and errors: lower is better), a model against itself differs by
exactly 0, the paired bootstrap intervals agree with a numpy paired bootstrap on the same
predictions, every supervised model kind of the registry compares, and mismatched models or
data fail naming the file or column without writing any output."""
import csv
import json

import numpy as np
import pytest
from sklearn.metrics import log_loss, mean_absolute_error, r2_score, roc_auc_score

from conftest import DATA
from test_evaluate import svgs_parse, write_csv


def compare(run_tabula, tmp_path, a, b, data, *extra, name="c"):
    out, report = tmp_path / f"{name}.json", tmp_path / f"{name}.html"
    r = run_tabula("compare", "--model", a, "--model", b, "--data", data, "--json", out,
                   "--report", report, *extra)
    c = json.loads(out.read_text())
    html = report.read_text()
    # One bar chart (a, b) per metric both models have, every chart well-formed.
    assert svgs_parse(html) == sum(m["a"] is not None and m["b"] is not None
                                   for m in c["metrics"])
    assert c["overall"]["summary"] in html
    return c, r.stdout


def by_metric(c):
    return {m["metric"]: m for m in c["metrics"]}


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """y depends on `signal` strongly and on `weak` a little: a model without `signal` is worse."""
    rng = np.random.default_rng(3)
    n = 3000
    signal, weak = rng.normal(size=n), rng.normal(size=n)
    folder = tmp_path_factory.mktemp("compare")
    rows = lambda y: [[f"{signal[i]:.5f}", f"{weak[i]:.5f}", y[i]] for i in range(n)]
    binary = (signal + 0.3 * weak + 0.5 * rng.normal(size=n) > 0).astype(int)
    three = np.digitize(signal + 0.3 * weak + 0.5 * rng.normal(size=n), [-0.6, 0.6])
    value = 3 * signal + 0.5 * weak + 0.5 * rng.normal(size=n)
    return {
        "binary": write_csv(folder / "b.csv", ["signal", "weak", "y"], rows(binary)),
        "multiclass": write_csv(folder / "m.csv", ["signal", "weak", "y"],
                                rows([["low", "mid", "high"][v] for v in three])),
        "regression": write_csv(folder / "r.csv", ["signal", "weak", "y"],
                                rows([f"{v:.5f}" for v in value])),
    }


def train(run_tabula, path, data, model, *extra):
    run_tabula("train", "--data", data, "--target", "y", "--model", model, "--out", path, *extra)
    return path


@pytest.mark.parametrize("kind,model", [("binary", "logistic"), ("multiclass", "logistic"),
                                        ("regression", "ridge")])
def test_the_stronger_model_wins_in_the_right_direction(run_tabula, tmp_path, tables, kind,
                                                        model):
    data = tables[kind]
    strong = train(run_tabula, tmp_path / "strong.tbl", data, model)
    weak = train(run_tabula, tmp_path / "weak.tbl", data, model, "--drop", "signal")
    c, text = compare(run_tabula, tmp_path, weak, strong, data)
    metrics = by_metric(c)
    expected = {"binary": ["accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss"],
                "multiclass": ["accuracy", "balanced_accuracy", "f1_macro", "roc_auc",
                               "log_loss"],
                "regression": ["r2", "mean_squared_error", "root_mean_squared_error",
                               "mean_absolute_error"]}[kind]
    assert list(metrics) == expected
    for name, m in metrics.items():
        assert m["verdict"] == "b", m
        lower_is_better = name in ("log_loss", "mean_squared_error", "root_mean_squared_error",
                                   "mean_absolute_error")
        assert m["greater_is_better"] is not lower_is_better
        # b (strong) has the lower loss / the higher score; the difference is b - a.
        assert m["difference"] == pytest.approx(m["b"] - m["a"], abs=1e-12)
        assert (m["difference"] < 0) == lower_is_better
        assert m["ci"][0] <= m["difference"] <= m["ci"][1]
        assert m["summary"].startswith(f"b is better on {name}: ")
    assert c["overall"]["verdict"] == "b" and c["rows"] == 3000
    assert "overall: b is better" in text
    # The other way round: a wins, with the same numbers mirrored.
    swapped, _ = compare(run_tabula, tmp_path, strong, weak, data, name="swapped")
    for name, m in by_metric(swapped).items():
        assert m["verdict"] == "a"
        assert m["difference"] == pytest.approx(-metrics[name]["difference"], abs=1e-12)
        assert m["ci"] == pytest.approx([-metrics[name]["ci"][1], -metrics[name]["ci"][0]],
                                        abs=1e-12)
    assert swapped["overall"]["verdict"] == "a"


def test_hostile_names_are_escaped_in_the_report(run_tabula, tmp_path, tables):
    folder = tmp_path / "<b>x&y"
    folder.mkdir()
    model = train(run_tabula, folder / "<script>.tbl", tables["binary"], "logistic")
    out = tmp_path / "r.html"
    run_tabula("compare", "--model", model, "--model", model, "--data", tables["binary"],
               "--n-bootstrap", "20", "--report", out)
    html = out.read_text()
    assert "<script>" not in html and "<b>x" not in html
    assert "&lt;script&gt;.tbl" in html and "&lt;b&gt;x&amp;y" in html
    svgs_parse(html)


def test_a_model_against_itself_differs_by_zero(run_tabula, tmp_path, tables):
    model = train(run_tabula, tmp_path / "m.tbl", tables["binary"], "forest", "--param",
                  "n_estimators=20")
    c, text = compare(run_tabula, tmp_path, model, model, tables["binary"], "--n-bootstrap",
                      "200")
    for m in c["metrics"]:
        assert m["a"] == m["b"] and m["difference"] == 0 and m["ci"] == [0, 0]
        assert m["verdict"] == "none" and m["summary"].startswith("no significant difference")
    assert c["overall"] == {"verdict": "none", "summary": "no significant difference",
                            "a_better_on": [], "b_better_on": []}
    assert "overall: no significant difference" in text


def predictions(run_tabula, tmp_path, model, data, proba=False):
    out = tmp_path / "p.csv"
    run_tabula("predict", "--model", model, "--data", data, "--out", out,
               *(["--proba"] if proba else []))
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    return np.array(rows[1:], dtype=float)


def numpy_paired_bootstrap(y, pa, pb, metric, n_bootstrap, confidence, seed):
    rng = np.random.default_rng(seed)
    n = len(y)
    diffs = []
    for _ in range(n_bootstrap):
        i = rng.integers(0, n, size=n)
        diffs.append(metric(y[i], pb[i]) - metric(y[i], pa[i]))
    tail = (1 - confidence) / 2
    return np.percentile(diffs, [100 * tail, 100 * (1 - tail)])


def test_intervals_agree_with_a_numpy_paired_bootstrap(run_tabula, tmp_path, tables):
    """Different random draws, so the endpoints agree within Monte Carlo error (2000 resamples:
    about 2% of the interval's width); 10% of the width is allowed."""
    data = tables["regression"]
    a = train(run_tabula, tmp_path / "a.tbl", data, "ridge", "--drop", "weak")
    b = train(run_tabula, tmp_path / "b.tbl", data, "forest", "--param", "n_estimators=20")
    c, _ = compare(run_tabula, tmp_path, a, b, data, "--n-bootstrap", "2000", "--confidence",
                   "0.9", "--seed", "5")
    with open(data, newline="") as f:
        y = np.array([float(r["y"]) for r in csv.DictReader(f)])
    pa = predictions(run_tabula, tmp_path, a, data)[:, -1]
    pb = predictions(run_tabula, tmp_path, b, data)[:, -1]
    metrics = by_metric(c)
    for name, fn in [("r2", r2_score), ("mean_absolute_error", mean_absolute_error)]:
        m = metrics[name]
        assert m["a"] == pytest.approx(fn(y, pa), abs=1e-9)
        assert m["b"] == pytest.approx(fn(y, pb), abs=1e-9)
        low, high = numpy_paired_bootstrap(y, pa, pb, fn, 2000, 0.9, 1)
        width = high - low
        assert width > 0
        assert m["ci"][0] == pytest.approx(low, abs=0.1 * width), name
        assert m["ci"][1] == pytest.approx(high, abs=0.1 * width), name
        assert m["ci"][0] <= m["difference"] <= m["ci"][1]
    # Deterministic for a seed; another seed draws other resamples.
    again, _ = compare(run_tabula, tmp_path, a, b, data, "--n-bootstrap", "2000", "--confidence",
                       "0.9", "--seed", "5", name="again")
    other, _ = compare(run_tabula, tmp_path, a, b, data, "--n-bootstrap", "2000", "--confidence",
                       "0.9", "--seed", "6", name="other")
    assert again == c
    assert by_metric(other)["r2"]["ci"] != metrics["r2"]["ci"]


def test_probability_metrics_equal_sklearn(run_tabula, tmp_path, tables):
    data = tables["multiclass"]
    a = train(run_tabula, tmp_path / "a.tbl", data, "logistic", "--drop", "weak")
    b = train(run_tabula, tmp_path / "b.tbl", data, "forest", "--param", "n_estimators=20")
    c, _ = compare(run_tabula, tmp_path, a, b, data, "--n-bootstrap", "100")
    assert c["classes"] == ["high", "low", "mid"]
    with open(data, newline="") as f:
        y = np.array([["high", "low", "mid"].index(r["y"]) for r in csv.DictReader(f)])
    metrics = by_metric(c)
    for side, model in [("a", a), ("b", b)]:
        proba = predictions(run_tabula, tmp_path, model, data, proba=True)
        assert metrics["roc_auc"][side] == pytest.approx(
            roc_auc_score(y, proba, multi_class="ovr"), abs=1e-9)
        assert metrics["log_loss"][side] == pytest.approx(log_loss(y, proba), abs=1e-9)


def supervised_kinds(run_tabula):
    listed = json.loads(run_tabula("models", "--json").stdout)
    return [(m["name"], t) for m in listed for t in m["tasks"]
            if t not in ("transform", "clustering")]


def test_every_registered_supervised_kind_compares(run_tabula, tmp_path):
    kinds = supervised_kinds(run_tabula)
    assert {("forest", "classification"), ("ridge", "regression")} <= set(kinds)
    tables = {"classification": (DATA / "wine.csv", "logistic"),
              "regression": (DATA / "diabetes.csv", "ridge")}
    for kind, task in kinds:
        data, reference = tables[task]
        model = tmp_path / f"{kind}-{task}.tbl"
        run_tabula("train", "--data", data, "--target", "target", "--model", kind, "--task",
                   task, "--out", model)
        other = tmp_path / f"{reference}-{task}.tbl"
        if not other.exists():
            run_tabula("train", "--data", data, "--target", "target", "--model", reference,
                       "--task", task, "--out", other)
        c, _ = compare(run_tabula, tmp_path, other, model, data, "--n-bootstrap", "50")
        assert c["task"] == task and c["b"]["file"] == str(model), (kind, task)
        assert len(c["metrics"]) >= 3
        for m in c["metrics"]:
            assert m["verdict"] in ("a", "b", "none"), (kind, task, m)
            assert np.isfinite([m["a"], m["b"], *m["ci"]]).all(), (kind, task, m)
        assert c["overall"]["verdict"] in ("a", "b", "none", "mixed")


def test_mismatches_name_the_files_and_write_nothing(run_tabula, tmp_path, tables):
    binary = train(run_tabula, tmp_path / "binary.tbl", tables["binary"], "logistic")
    three = train(run_tabula, tmp_path / "three.tbl", tables["multiclass"], "logistic")
    regressor = train(run_tabula, tmp_path / "reg.tbl", tables["binary"], "ridge", "--task",
                      "regression")
    run_tabula("train", "--data", tables["binary"], "--drop", "y", "--model", "kmeans", "--out",
               tmp_path / "km.tbl")
    out = tmp_path / "out.json"

    def refused(*args):
        r = run_tabula("compare", *args, "--json", out, "--report", tmp_path / "out.html",
                       expect=1)
        assert not out.exists() and not (tmp_path / "out.html").exists()
        assert list(tmp_path.glob(".out.*")) == []
        return r.stderr

    err = refused("--model", binary, "--model", regressor, "--data", tables["binary"])
    assert "binary.tbl" in err and "reg.tbl" in err and "regression" in err
    err = refused("--model", binary, "--model", three, "--data", tables["binary"])
    assert "binary.tbl" in err and "three.tbl" in err and "classes" in err
    no_target = tmp_path / "no_target.csv"
    with open(tables["binary"]) as f:
        no_target.write_text("".join(line.rsplit(",", 1)[0] + "\n" for line in f))
    err = refused("--model", binary, "--model", binary, "--data", no_target)
    assert "'y'" in err and "no_target.csv" in err
    err = refused("--model", binary, "--model", binary, "--data", tables["binary"], "--target",
                  "label")
    assert "'label'" in err
    err = refused("--model", tmp_path / "km.tbl", "--model", binary, "--data", tables["binary"],
                  "--target", "y")
    assert "km.tbl" in err and "clustering" in err and "supervised" in err
    err = refused("--model", binary, "--data", tables["binary"])
    assert "twice" in err
    # b needs a column the data lacks: named, with b's file.
    wide = train(run_tabula, tmp_path / "wide.tbl", tables["binary"], "logistic")
    narrow = tmp_path / "narrow.csv"
    with open(tables["binary"]) as f:
        narrow.write_text("".join(",".join(line.rstrip("\n").split(",")[1:]) + "\n" for line in f))
    err = refused("--model", wide, "--model", wide, "--data", narrow)
    assert "signal" in err and "wide.tbl" in err
