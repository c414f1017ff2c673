"""Drift monitoring (docs/monitoring.md) through every door: for every registered model kind and
task, `tabula train` stores a training profile that `tabula monitor` compares a file with (exit
0 on the training data, 3 when a column moved, naming it); the statistics agree with SciPy's
two-sample KS and a NumPy decile PSI on the raw values; `tune`'s refitted model carries a
profile; the server's /v2/models/{name}/drift and /metrics report a rolling window that
survives a hot reload of the same version; the HTML report renders in headless chromium."""
import csv
import json
import pathlib
import re
import shutil

import numpy as np
import pytest
from scipy import stats

from test_evaluate_browser import BROWSER, render
from test_round_trip import UNSUPERVISED, kinds, make_table, read_rows
from test_server_harness import Server
from test_server_lifecycle import place, wait_for

ROOT = pathlib.Path(__file__).resolve().parents[2]
DRIFT_EXIT = 3


def shifted(src, dst, column, by):
    """`src` with `by` added to every present value of `column`."""
    header, rows = read_rows(src)
    j = header.index(column)
    with open(dst, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            if row[j] != "":
                row[j] = f"{float(row[j]) + by:.5f}"
            w.writerow(row)
    return dst


def monitor(run_tabula, model, data, tmp_path, expect):
    out = tmp_path / "drift.json"
    run_tabula("monitor", "--model", model, "--data", data, "--json", out, "--min-rows", 10,
               expect=expect)
    return json.loads(out.read_text())


def test_every_registered_model_is_monitored(run_tabula, tmp_path):
    for kind, task in kinds(run_tabula):
        for shape in ("numeric", "text"):
            name = f"{kind}-{task}-{shape}"
            data = tmp_path / f"{name}.csv"
            make_table(data, task, shape, n=400)
            model = tmp_path / f"{name}.tabula"
            target = [] if task in UNSUPERVISED else ["--target", "y"]
            r = run_tabula("train", "--data", data, *target, "--model", kind, "--out", model)
            assert f"task: {task} (" in r.stderr, r.stderr
            header = json.loads(run_tabula("inspect", "--json", model).stdout)
            same = monitor(run_tabula, model, data, tmp_path, expect=0)
            assert same["status"] == "ok", (name, same["drifted_columns"])
            names = [c["name"] for c in same["features"]]
            assert names == [f["name"] for f in header["schema"]["features"]], name
            assert same["prediction"] is not None, name
            assert same["rows"] == 400, name

            moved = monitor(run_tabula, model, shifted(data, tmp_path / f"{name}-moved.csv", "x1",
                                                       5.0), tmp_path, expect=DRIFT_EXIT)
            assert moved["status"] == "drift", name
            assert "x1" in moved["drifted_columns"] and "x2" not in moved["drifted_columns"], name
            x1 = next(c for c in moved["features"] if c["name"] == "x1")
            assert x1["ks"] > 0.9 and x1["psi"] > 1.0, (name, x1)


def test_statistics_agree_with_scipy_and_a_numpy_decile_psi(run_tabula, tmp_path):
    rng = np.random.default_rng(11)
    n = 20000
    train_x, new_x = rng.normal(size=n), rng.normal(loc=0.5, scale=1.2, size=n)

    def write(path, x):
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["x", "noise", "y"])
            for i, v in enumerate(x):
                w.writerow([f"{v:.6f}", f"{(i * 7919) % 1000}", f"{2 * v + 1:.6f}"])
        return path

    train_file, new_file = write(tmp_path / "train.csv", train_x), write(tmp_path / "new.csv", new_x)
    model = tmp_path / "m.tabula"
    # --test-size 0: the profile is of every row, as SciPy sees them.
    run_tabula("train", "--data", train_file, "--target", "y", "--model", "linear",
               "--test-size", 0, "--out", model)
    r = monitor(run_tabula, model, new_file, tmp_path, expect=DRIFT_EXIT)
    x = r["features"][0]
    # KS is read at the 99 percentile edges: within their spacing of the exact statistic.
    assert x["ks"] == pytest.approx(stats.ks_2samp(train_x, new_x).statistic, abs=0.01)
    edges = np.percentile(train_x, np.arange(10, 100, 10))
    ref = np.bincount(np.searchsorted(edges, train_x, side="right"), minlength=10) / n
    cur = np.bincount(np.searchsorted(edges, new_x, side="right"), minlength=10) / n
    psi = float(np.sum((cur - ref) * np.log(cur / ref)))
    assert x["psi"] == pytest.approx(psi, rel=0.05)
    # The prediction (2x + 1) moved as x did.
    assert r["prediction"]["ks"] == pytest.approx(x["ks"], abs=0.01)
    assert r["features"][1]["psi"] < 0.01  # noise: the same values in both files


def test_a_model_without_profile_is_refused_clearly(run_tabula, tmp_path):
    # The fuzzing corpus's files were written without a profile (as files before profiles).
    path = ROOT / "tests" / "fuzz" / "corpus" / "artifact" / "linear-regression-default.tabula"
    data = tmp_path / "d.csv"
    data.write_text("a,b,color,size\n" + "1.5,2,red,S\n" * 20)
    report = tmp_path / "r.html"
    r = run_tabula("monitor", "--model", path, "--data", data, "--report", report, expect=1)
    assert "holds no training profile" in r.stderr and str(path) in r.stderr
    assert not report.exists()


def test_python_saved_models_carry_a_profile(run_tabula, tmp_path):
    # The Python estimators profile their training data as `tabula train` does (inputs over a
    # sample of the rows, the model's predictions on them), labelled by the classes at save.
    tabula = pytest.importorskip("tabula")
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2))
    path = tmp_path / "matrix.tabula"
    tabula.LogisticRegression().fit(x, (x[:, 0] > 0).astype(int)).save(path)
    same, moved = tmp_path / "same.csv", tmp_path / "moved.csv"
    np.savetxt(same, x, delimiter=",", header="x0,x1", comments="")
    np.savetxt(moved, x + [0.0, 3.0], delimiter=",", header="x0,x1", comments="")
    r = monitor(run_tabula, path, same, tmp_path, expect=0)
    assert r["status"] == "ok" and r["rows"] == 2000
    # (The fit saw float32 values, the file holds their float64 text: a few edge rows move.)
    assert all(f["psi"] < 0.01 for f in r["features"]) and r["prediction"]["psi"] < 0.01
    r = monitor(run_tabula, path, moved, tmp_path, expect=3)
    assert [f["name"] for f in r["features"] if f["drifted"]] == ["x1"]
    # A DataFrame with a text column and text labels: the prediction's groups are the labels,
    # and a category the fit never saw is counted as unseen.
    frame = pd.DataFrame({"a": rng.normal(size=600), "c": rng.choice(["x", "y"], 600)})
    labels = np.where(frame["a"] > 0.3, "yes", "no")
    path = tmp_path / "frame.tabula"
    tabula.HistGradientBoostingClassifier(max_iter=5).fit(frame, labels).save(path)
    new = tmp_path / "new.csv"
    frame.assign(c=np.where(np.arange(600) % 2 == 0, "z", frame["c"])).to_csv(new, index=False)
    r = monitor(run_tabula, path, new, tmp_path, expect=3)
    c = next(f for f in r["features"] if f["name"] == "c")
    assert c["drifted"] and c["unseen"] == pytest.approx(0.5)
    groups = {g["label"]: g["reference"] for g in r["prediction"]["groups"]}
    assert set(groups) == {"yes", "no"}
    assert groups["yes"] == pytest.approx(float(np.mean(labels == "yes")), abs=0.05)


def test_tuned_model_carries_a_profile(run_tabula, data_dir, tmp_path):
    out = tmp_path / "tuned"
    run_tabula("tune", "--data", data_dir / "titanic.csv", "--target", "survived", "--model",
               "logistic", "--folds", 2, "--no-progress", "--out", out)
    r = monitor(run_tabula, out / "model.tabula", data_dir / "titanic.csv", tmp_path, expect=0)
    assert r["status"] == "ok" and r["rows"] > 1000


def infer_rows(server, age, rows=10):
    body = {"inputs": [
        {"name": "sex", "datatype": "BYTES", "shape": [rows], "data": ["male"] * rows},
        {"name": "age", "datatype": "FP64", "shape": [rows], "data": [age] * rows},
        {"name": "passengerClass", "datatype": "BYTES", "shape": [rows], "data": ["3rd"] * rows}]}
    status, _, answer = server.request("POST", "/v2/models/t/infer", body)
    assert status == 200, answer


def test_server_drift_window_metrics_and_hot_reload(tabula_bin, run_tabula, data_dir, tmp_path):
    model = tmp_path / "t.tabula"
    run_tabula("train", "--data", data_dir / "titanic.csv", "--target", "survived", "--model",
               "forest", "--param", "n_estimators=10", "--out", model)
    repo = tmp_path / "repo"
    place(repo, "t", 1, model)
    server = Server(tabula_bin, repo, "--poll-interval", 0.2, "--drift-window", 200,
                    "--drift-min-rows", 50, log_dir=tmp_path)
    try:
        status, _, empty = server.request("GET", "/v2/models/t/drift")
        assert status == 200 and empty["versions"][0]["status"] == "insufficient_data"
        for _ in range(30):
            infer_rows(server, age=90.0)
        status, _, r = server.request("GET", "/v2/models/t/versions/1/drift")
        assert status == 200 and r["status"] == "drift", r
        assert r["rows"] <= 200 and "age" in r["drifted_columns"]
        labels = 'model="t",version="1"'
        assert server.metric(f"tabula_drift_detected{{{labels}}}") == 1
        assert server.metric(f'tabula_drift_psi{{{labels},column="age"}}') > 1.0
        assert "drift in" in server.log()

        # The same version's file copied in again: reloaded, and its window kept.
        rows_before = r["rows"]
        shutil.copyfile(model, repo / "t" / "1" / "model.tabula.part")
        (repo / "t" / "1" / "model.tabula.part").rename(repo / "t" / "1" / "model.tabula")
        assert wait_for(lambda: server.log().count("loaded model 't' version 1") >= 2), server.log()
        _, _, kept = server.request("GET", "/v2/models/t/versions/1/drift")
        assert kept["rows"] == rows_before and kept["status"] == "drift"
        status, _, missing = server.request("GET", "/v2/models/nope/drift")
        assert status == 404
    finally:
        assert server.stop() == 0, server.log()


def test_server_says_why_a_version_has_no_window(tabula_bin, run_tabula, data_dir, tmp_path):
    model = tmp_path / "t.tabula"
    run_tabula("train", "--data", data_dir / "titanic.csv", "--target", "survived", "--model",
               "logistic", "--out", model)
    repo = tmp_path / "repo"
    place(repo, "t", 1, model)
    server = Server(tabula_bin, repo, "--drift-window", 0, log_dir=tmp_path)
    try:
        status, _, body = server.request("GET", "/v2/models/t/drift")
        assert status == 409 and "--drift-window is 0" in body["error"]
    finally:
        assert server.stop() == 0, server.log()


@pytest.mark.skipif(BROWSER is None, reason="chromium not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(run_tabula, data_dir, tmp_path):
    model, page = tmp_path / "m.tabula", tmp_path / "drift.html"
    run_tabula("train", "--data", data_dir / "titanic.csv", "--target", "survived", "--model",
               "forest", "--param", "n_estimators=10", "--out", model)
    moved = shifted(data_dir / "titanic.csv", tmp_path / "older.csv", "age", 30.0)
    run_tabula("monitor", "--model", model, "--data", moved, "--report", page, expect=DRIFT_EXIT)
    source = page.read_text()
    assert not re.search(r"\b(src|href)\s*=", source)
    assert "<script" not in source and "url(" not in source
    dom = render(page, tmp_path / "profile")
    assert "DRIFT in 1 column(s)" in dom
    # The drifted column first, then the three largest of the rest (prediction included).
    assert len(re.findall(r"<svg\b", dom)) == 4
    assert "age (PSI" in dom
    assert len(re.findall(r"<rect class=\"bar\"", dom)) >= 8
