"""ONNX export (`tabula export --format onnx`, `model.to_onnx`): for every registered model kind
and task, on numeric tables and on the Titanic passenger list (text columns, missing ages, and
at scoring time unseen categories and missing text), onnxruntime's outputs match tabula's own
predict / transform; the file passes onnx's checker. Kinds are enumerated from the engine's
registry (`tabula models --json`), so a model without an exporter fails here.
"""
import json

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest

import tabula


def registered(run_tabula):
    models = json.loads(run_tabula("models", "--json").stdout)
    return [(m["name"], task) for m in models for task in m["tasks"]]


def tables(data_dir, tmp_path):
    """task -> [(name, training CSV, target or None, scoring CSV)]; the scoring files of the
    Titanic sets hold unseen categories and missing text."""
    titanic = pd.read_csv(data_dir / "titanic.csv").drop(columns=["name"])
    scoring = titanic.copy()
    scoring.loc[::7, "passengerClass"] = "4th"  # unseen
    scoring.loc[3::11, "sex"] = np.nan          # missing text
    paths = {}
    for name, frame in [("titanic", titanic), ("titanic_scoring", scoring),
                        ("titanic_ages", titanic.dropna(subset=["age"])),
                        ("titanic_ages_scoring", scoring.dropna(subset=["age"]))]:
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return {
        "classification": [("breast_cancer", data_dir / "breast_cancer.csv", "target",
                            data_dir / "breast_cancer.csv"),
                           ("wine", data_dir / "wine.csv", "target", data_dir / "wine.csv"),
                           ("titanic", paths["titanic"], "survived", paths["titanic_scoring"])],
        "regression": [("diabetes", data_dir / "diabetes.csv", "target",
                        data_dir / "diabetes.csv"),
                       ("titanic_ages", paths["titanic_ages"], "age",
                        paths["titanic_ages_scoring"])],
        "transform": [("wine", data_dir / "wine.csv", None, data_dir / "wine.csv")],
        "clustering": [("wine", data_dir / "wine.csv", None, data_dir / "wine.csv")],
    }


def feeds(session, frame):
    """onnxruntime inputs from a table: one double matrix "X" in the model's column order, or
    one [N, 1] tensor per column ("" for missing text)."""
    meta = session.get_modelmeta().custom_metadata_map
    columns = json.loads(meta["tabula.input_columns"])
    inputs = {i.name: i for i in session.get_inputs()}
    if list(inputs) == ["X"]:
        return {"X": frame[columns].to_numpy(np.float64)}
    out = {}
    for name, spec in inputs.items():
        if spec.type == "tensor(string)":
            out[name] = frame[name].astype(object).where(frame[name].notna(), "") \
                .astype(str).to_numpy(object).reshape(-1, 1)
        else:
            out[name] = frame[name].to_numpy(np.float64).reshape(-1, 1)
    return out


def check(run_tabula, tmp_path, kind, task, name, train, target, score):
    check_with(run_tabula, tmp_path, kind, task, name, train, target, score, [])


def check_with(run_tabula, tmp_path, kind, task, name, train, target, score, extra):
    """Trains `kind` (train flags `extra`), exports it, and compares onnxruntime with tabula."""
    model = tmp_path / f"{kind}-{task}-{name}.tbl"
    args = ["train", "--data", train, "--model", kind, "--out", model, "--seed", "0", *extra]
    if target:
        args += ["--target", target, "--task", task]
    if kind.startswith("forest"):
        args += ["--param", "n_estimators=15"]
    if kind.startswith("gbdt"):  # category sets are refused (test below): one-hot encode text
        args += ["--param", "categorical_features=None"]
    run_tabula(*args)
    exported = tmp_path / f"{kind}-{task}-{name}.onnx"
    run_tabula("export", "--model", model, "--format", "onnx", "--out", exported)
    onnx.checker.check_model(onnx.load(exported), full_check=True)
    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    frame = pd.read_csv(score)
    outputs = dict(zip([o.name for o in session.get_outputs()],
                       session.run(None, feeds(session, frame))))
    out = tmp_path / "out.csv"
    where = f"{kind} ({task}) on {name}"
    if task == "transform":
        run_tabula("transform", "--model", model, "--data", score, "--out", out)
        np.testing.assert_allclose(outputs["transformed"], pd.read_csv(out).to_numpy(),
                                   rtol=1e-6, atol=1e-9, err_msg=where)
    elif task == "clustering":
        run_tabula("transform", "--model", model, "--data", score, "--out", out)
        distances = pd.read_csv(out).to_numpy()
        np.testing.assert_allclose(outputs["transformed"], distances, rtol=1e-5, atol=1e-5,
                                   err_msg=where)
        run_tabula("predict", "--model", model, "--data", score, "--out", out)
        labels = pd.read_csv(out).iloc[:, -1].to_numpy()
        # Labels agree except where two centres are equally near within float32 noise.
        top = np.sort(distances, axis=1)
        clear = top[:, 1] - top[:, 0] > 1e-4
        assert clear.mean() > 0.9, where
        np.testing.assert_array_equal(outputs["label"][clear], labels[clear], err_msg=where)
    elif task == "regression":
        run_tabula("predict", "--model", model, "--data", score, "--out", out)
        np.testing.assert_allclose(outputs["variable"][:, 0], pd.read_csv(out).iloc[:, -1],
                                   rtol=1e-4, atol=1e-6, err_msg=where)
    else:
        run_tabula("predict", "--model", model, "--data", score, "--out", out, "--proba")
        proba = pd.read_csv(out).to_numpy()
        np.testing.assert_allclose(outputs["probabilities"], proba, atol=1e-5, err_msg=where)
        run_tabula("predict", "--model", model, "--data", score, "--out", out)
        labels = pd.read_csv(out).iloc[:, -1].to_numpy()
        # Labels agree except where tabula's two best probabilities tie within float32 noise.
        top = np.sort(proba, axis=1)
        clear = top[:, -1] - top[:, -2] > 1e-5
        assert clear.mean() > 0.9, where
        np.testing.assert_array_equal(outputs["label"][clear].astype(str),
                                      labels[clear].astype(str), err_msg=where)


def test_every_registered_model_exports(run_tabula, data_dir, tmp_path):
    sets = tables(data_dir, tmp_path)
    checked = set()
    for kind, task in registered(run_tabula):
        for name, train, target, score in sets[task]:
            check(run_tabula, tmp_path, kind, task, name, train, target, score)
            checked.add((kind, task))
    assert checked == set(registered(run_tabula))


def test_what_onnx_cannot_express_is_refused(run_tabula, data_dir, tmp_path):
    model = tmp_path / "m.tbl"
    run_tabula("train", "--data", data_dir / "wine.csv", "--target", "target", "--model", "dummy",
               "--param", "strategy=stratified", "--out", model)
    result = run_tabula("export", "--model", model, "--format", "onnx", "--out",
                        tmp_path / "m.onnx", expect=None)
    assert result.returncode != 0
    assert "cannot export to ONNX" in result.stderr and "stratified" in result.stderr
    assert not (tmp_path / "m.onnx").exists()
    run_tabula("train", "--data", data_dir / "titanic.csv", "--target", "survived", "--model",
               "forest", "--handle-unknown", "error", "--out", model)
    result = run_tabula("export", "--model", model, "--format", "onnx", "--out",
                        tmp_path / "m.onnx", expect=None)
    assert result.returncode != 0 and "handle_unknown=error" in result.stderr
    # Gradient boosting's category sets: refused, naming the feature.
    run_tabula("train", "--data", data_dir / "titanic.csv", "--target", "survived", "--model",
               "gbdt", "--drop-columns", "name", "--param", "categorical_features=sex",
               "--out", model)
    result = run_tabula("export", "--model", model, "--format", "onnx", "--out",
                        tmp_path / "m.onnx", expect=None)
    assert result.returncode != 0 and "categorical feature 'sex'" in result.stderr
    assert not (tmp_path / "m.onnx").exists()
    # Not a model file at all: the loader's message, and nothing written.
    (tmp_path / "bad.tbl").write_bytes(b"not a model")
    result = run_tabula("export", "--model", tmp_path / "bad.tbl", "--format", "onnx", "--out",
                        tmp_path / "m.onnx", expect=None)
    assert result.returncode != 0 and "not a tabula model" in result.stderr
    assert not (tmp_path / "m.onnx").exists()


def test_python_estimators_export(tmp_path):
    """model.to_onnx(path) for a numpy-fitted estimator: input "X" as the estimator saw it."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 5))
    x[::9, 2] = np.nan
    y = np.where(np.nan_to_num(x[:, 0]) + 0.2 * rng.normal(size=300) > 0, 3, 7)
    model = tabula.RandomForestClassifier(n_estimators=20, random_state=0).fit(x, y)
    path = model.to_onnx(tmp_path / "forest.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {"X": x})
    np.testing.assert_allclose(proba, model.predict_proba(x), atol=1e-5)
    assert set(np.unique(label)) <= {3, 7}
    clear = np.abs(proba[:, 0] - proba[:, 1]) > 1e-5
    np.testing.assert_array_equal(label[clear], model.predict(x)[clear])


PIPELINES = {
    # Min-max scaling, rare and unseen categories in one infrequent column, missing text left
    # missing (no imputer), a PCA over everything.
    "minmax_infrequent_pca": """
[[pipeline.branches]]
name = "numeric"
type = "numeric"
steps = [{ kind = "SimpleImputer", strategy = "mean" }, { kind = "MinMaxScaler" }]
[[pipeline.branches]]
name = "categorical"
type = "categorical"
steps = [{ kind = "OneHotEncoder", handle_unknown = "infrequent_if_exist", min_frequency = 300 }]
[pipeline]
after = [{ kind = "PCA", n_components = 3 }]
""",
    # Ordinal codes with an unknown value, a PCA inside a branch, scaling after.
    "ordinal_branch_pca": """
[[pipeline.branches]]
name = "numeric"
type = "numeric"
steps = [{ kind = "SimpleImputer", strategy = "median" }, { kind = "StandardScaler" },
         { kind = "PCA", n_components = 1 }]
[[pipeline.branches]]
name = "categorical"
type = "categorical"
steps = [{ kind = "SimpleImputer", strategy = "most_frequent" },
         { kind = "OrdinalEncoder", handle_unknown = "use_encoded_value", unknown_value = -1 }]
[pipeline]
after = [{ kind = "StandardScaler" }]
""",
}


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
@pytest.mark.parametrize("kind", ["forest", "logistic"])
def test_pipelines_export(run_tabula, data_dir, tmp_path, pipeline, kind):
    """Every pipeline step kind that ONNX can express, in branches and after them."""
    spec = tmp_path / "pipeline.toml"
    spec.write_text(PIPELINES[pipeline])
    sets = tables(data_dir, tmp_path)
    _, train, target, score = sets["classification"][2]  # titanic, unseen and missing text
    check_with(run_tabula, tmp_path, kind, "classification", pipeline, train, target, score,
               ["--pipeline", spec])
