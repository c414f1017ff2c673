"""Every model kind through the doors: for each kind `tabula models` lists × each task it does ×
each input shape (numeric only, with a text column, with missing values), `tabula train` writes a
file that `tabula inspect` reads, `tabula predict` (or `transform`) scores, and `tabula serve`
loads, its /v2 infer answers agreeing with predict; `tabula tune`'s refitted model.tabula
reloads and predicts. The in-memory vs reloaded bit-for-bit check is the C++ round_trip_test."""
import csv
import json

import numpy as np
import pytest

from test_server_harness import Server

SHAPES = ["numeric", "text", "missing"]
# Class labels in the three spellings a file can have; they must come back as written.
LABELS = {"numeric": ["0.0", "1.0", "2.0"], "text": ["low", "mid", "high"],
          "missing": ["0", "1", "2"]}


def kinds(run_tabula):
    listed = json.loads(run_tabula("models", "--json").stdout)
    assert {"forest", "linear", "pca"} <= {m["name"] for m in listed}
    return [(m["name"], task) for m in listed for task in m["tasks"]]


# Tasks fitted without a target.
UNSUPERVISED = ("transform", "clustering")


def make_table(path, task, shape, n=60, seed=3):
    """Two numeric features, a text column and a date column (text: ISO timestamps, missing:
    ISO dates) and empty cells (missing)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    color = np.array(["red", "green", "blue"])[np.arange(n) % 3]
    signal = x1 + 0.5 * x2 + (color == "red")
    header = ["x1", "x2"] + (["color", "when"] if shape != "numeric" else [])
    header += [] if task in UNSUPERVISED else ["y"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i in range(n):
            row = ["" if shape == "missing" and i % 7 == 3 else f"{x1[i]:.5f}", f"{x2[i]:.5f}"]
            if shape != "numeric":
                row.append("" if shape == "missing" and i % 11 == 5 else color[i])
                row.append(("" if i % 13 == 4 else f"2024-{1 + i % 12:02}-{1 + i % 28:02}")
                           if shape == "missing" else f"2023-12-{1 + i % 31:02}T{i % 24:02}:30:00")
            if task == "regression":
                row.append(f"{3 * signal[i] + rng.normal():.4f}")
            elif task == "classification":
                row.append(LABELS[shape][int(np.digitize(signal[i], [-0.4, 0.6]))])
            w.writerow(row)
    return header


def read_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def train_every_kind(run_tabula, root, shapes=SHAPES, n=60):
    """(repository, {name: (kind, task, shape, data path, model path, header)}): one model per
    registered kind × task × shape, each in its own folder of the repository under `root`."""
    repo = root / "repo"
    cases = {}
    for kind, task in kinds(run_tabula):
        for shape in shapes:
            name = f"{kind}-{task}-{shape}"
            data = root / f"{name}.csv"
            header = make_table(data, task, shape, n=n)
            model = repo / name / "1" / "model.tabula"
            model.parent.mkdir(parents=True)
            target = [] if task in UNSUPERVISED else ["--target", "y"]
            r = run_tabula("train", "--data", data, *target, "--model", kind, "--out", model,
                           "--seed", 7, "--test-size", "0")
            # The chosen task is announced on stderr, with its reason.
            assert f"task: {task} (" in r.stderr, r.stderr
            cases[name] = (kind, task, shape, data, model, header)
    return repo, cases


@pytest.fixture(scope="module")
def trained(tmp_path_factory, run_tabula):
    """One model per case, in a repository."""
    return train_every_kind(run_tabula, tmp_path_factory.mktemp("round_trip"))


def cli_outputs(run_tabula, task, model, data, out_dir):
    """What `tabula predict` / `transform` writes: {column: list of cells}."""
    outs = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [("transform", [])] if task == "transform" else [("predict", [])]
    if task == "clustering":
        jobs.append(("transform", []))
    if task == "classification":
        jobs.append(("predict", ["--proba"]))
    for verb, extra in jobs:
        out = out_dir / f"{verb}{'-proba' if extra else ''}.csv"
        run_tabula(verb, "--model", model, "--data", data, "--out", out, *extra)
        header, rows = read_rows(out)
        for j, column in enumerate(header):
            outs[column] = [r[j] for r in rows]
    return outs


def test_every_kind_reloads_inspects_and_predicts(trained, run_tabula, tmp_path):
    _, cases = trained
    for name, (kind, task, shape, data, model, _) in cases.items():
        info = json.loads(run_tabula("inspect", "--json", model).stdout)
        # "forest" is stored as the family member it became (forest-classifier, ...).
        assert info["model"]["kind"].startswith(kind) and info["model"]["task"] == task, name
        outs = cli_outputs(run_tabula, task, model, data, tmp_path / name)
        _, rows = read_rows(data)
        assert all(len(v) == len(rows) for v in outs.values()), name
        if task == "classification":
            # Labels keep the training file's spelling, in predict and in the file.
            assert set(outs["prediction"]) <= set(LABELS[shape]), (name, set(outs["prediction"]))
            # Sorted as scikit-learn sorts classes: numbers by value, text by bytes.
            expected = sorted(LABELS[shape]) if shape == "text" else LABELS[shape]
            assert info["class_labels"] == expected, (name, info["class_labels"])
            assert [c.removeprefix("proba_") for c in outs if c.startswith("proba_")] == \
                info["class_labels"], name
        else:
            assert all(np.isfinite(float(v)) for col in outs.values() for v in col), name
        if task == "clustering":
            # The cluster is the nearest centre of the distances transform gives.
            distances = np.array([[float(v) for v in outs[c]] for c in outs
                                  if c.startswith("distance_")]).T
            assert distances.shape[1] == info["fitted"]["n_clusters"], name
            assert [int(v) for v in outs["prediction"]] == list(distances.argmin(axis=1)), name


def infer_body(data, header):
    _, rows = read_rows(data)
    inputs = []
    for j, column in enumerate(header):
        if column == "y":
            continue
        cells = [r[j] for r in rows]
        if column in ("color", "when"):
            inputs.append({"name": column, "datatype": "BYTES", "shape": [len(cells)],
                           "data": [c if c else None for c in cells]})
        else:
            inputs.append({"name": column, "datatype": "FP64", "shape": [len(cells)],
                           "data": [float(c) if c else None for c in cells]})
    return {"inputs": inputs}


def test_server_loads_every_kind_and_agrees_with_predict(trained, tabula_bin, run_tabula,
                                                         tmp_path):
    repo, cases = trained
    server = Server(tabula_bin, repo, log_dir=tmp_path)
    try:
        for name, (kind, task, shape, data, model, header) in cases.items():
            status, _, body = server.request("POST", f"/v2/models/{name}/infer",
                                             infer_body(data, header))
            assert status == 200, (name, body)
            got = {o["name"]: o for o in body["outputs"]}
            cli = cli_outputs(run_tabula, task, model, data, tmp_path / name)
            if task == "transform":
                width = got["transform"]["shape"][1]
                expected = [float(cli[f"pc{k + 1}"][i]) for i in range(len(cli["pc1"]))
                            for k in range(width)]
                assert np.array_equal(np.ravel(got["transform"]["data"]), expected), name
                continue
            predicted = got["predict"]["data"]
            if task == "clustering":
                assert got["predict"]["datatype"] == "INT64", (name, got["predict"])
                assert predicted == [int(v) for v in cli["prediction"]], name
                width = got["transform"]["shape"][1]
                expected = [float(cli[f"distance_{k}"][i]) for i in range(len(predicted))
                            for k in range(width)]
                assert np.array_equal(np.ravel(got["transform"]["data"]), expected), name
                continue
            if task == "regression":
                assert got["predict"]["datatype"] == "FP64"
                assert predicted == [float(v) for v in cli["prediction"]], name
                continue
            # Numbers stay numbers of the same kind (1.0 is FP64, 1 is INT64), text is BYTES.
            want_type = {"numeric": "FP64", "text": "BYTES", "missing": "INT64"}[shape]
            assert got["predict"]["datatype"] == want_type, (name, got["predict"])
            assert [str(v) for v in predicted] == cli["prediction"], name
            proba = np.array(got["probabilities"]["data"]).reshape(len(predicted), -1)
            columns = [c for c in cli if c.startswith("proba_")]
            expected = np.array([[float(cli[c][i]) for c in columns]
                                 for i in range(len(predicted))])
            assert np.array_equal(proba, expected), name
    finally:
        assert server.stop() == 0, server.log()


def test_tune_best_model_reloads(trained, run_tabula, tmp_path):
    _, cases = trained
    for name, (kind, task, shape, data, _, _) in cases.items():
        if task == "transform" or shape != "missing":
            continue  # tune needs a predictor; the missing shape has every column kind
        out = tmp_path / name
        target = [] if task in UNSUPERVISED else ["--target", "y"]
        r = run_tabula("tune", "--data", data, *target, "--model", kind, "--folds", 2,
                       "--test-size", "0.25", "--no-progress", "--seed", 1, "--out", out)
        assert f"task: {task} (" in r.stderr, r.stderr
        model = out / "model.tabula"
        info = json.loads(run_tabula("inspect", "--json", model).stdout)
        # "forest" is stored as the family member it became (forest-classifier, ...).
        assert info["model"]["kind"].startswith(kind) and info["model"]["task"] == task, name
        outs = cli_outputs(run_tabula, task, model, data, out / "scored")
        assert len(outs["prediction"]) == len(read_rows(data)[1]), name
