"""MLflow export (`tabula export --format mlflow`): for every registered model kind and task,
mlflow.pyfunc.load_model loads the directory and predicts what `tabula predict` / `transform`
give on the same rows (text columns, missing values); `mlflow models serve` serves one; an
existing directory is refused and nothing is left half-written. Kinds come from the registry
(`tabula models --json`)."""
import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest

import tabula
from test_onnx_export import registered, tables


def tabula_outputs(run_tabula, model, task, score, tmp_path):
    out = tmp_path / "out.csv"
    run_tabula("transform" if task == "transform" else "predict", "--model", model, "--data",
               score, "--out", out)
    frame = pd.read_csv(out)
    return frame.to_numpy() if task == "transform" else frame.iloc[:, -1].to_numpy()


def test_every_registered_model_loads_in_mlflow(run_tabula, data_dir, tmp_path):
    sets = tables(data_dir, tmp_path)
    for kind, task in registered(run_tabula):
        for name, train, target, score in sets[task]:
            model = tmp_path / f"{kind}-{task}-{name}.tbl"
            args = ["train", "--data", train, "--model", kind, "--out", model, "--seed", "0"]
            if target:
                args += ["--target", target, "--task", task]
            run_tabula(*args)
            directory = tmp_path / f"{kind}-{task}-{name}-mlflow"
            run_tabula("export", "--model", model, "--format", "mlflow", "--out", directory)
            loaded = mlflow.pyfunc.load_model(str(directory))
            got = np.asarray(loaded.predict(pd.read_csv(score)))
            want = tabula_outputs(run_tabula, model, task, score, tmp_path)
            where = f"{kind} ({task}) on {name}"
            if task == "classification":
                np.testing.assert_array_equal(got.astype(str), want.astype(str), err_msg=where)
            else:
                np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-9, atol=1e-9,
                                           err_msg=where)
            columns = json.loads(loaded.metadata.flavors["tabula"]["input_columns"])
            assert [c["name"] for c in columns] == \
                [c for c, _ in tabula.load(model)._model.input_columns], where


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mlflow_models_serve(run_tabula, data_dir, tmp_path):
    model = tmp_path / "titanic.tbl"
    run_tabula("train", "--data", data_dir / "titanic.csv", "--target", "survived", "--model",
               "forest", "--param", "n_estimators=20", "--out", model, "--seed", "0")
    directory = tmp_path / "titanic-mlflow"
    run_tabula("export", "--model", model, "--format", "mlflow", "--out", directory)
    port = free_port()
    package = pathlib.Path(tabula.__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(package) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PATH=str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m",
                               str(directory), "--env-manager", "local", "-p", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        frame = pd.read_csv(data_dir / "titanic.csv").head(40)
        body = json.dumps({"dataframe_split": json.loads(frame.to_json(orient="split",
                                                                      index=False))})
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", body.encode(),
                                         {"Content-Type": "application/json"})
        served = json.loads(urllib.request.urlopen(request, timeout=30).read())["predictions"]
        frame.to_csv(tmp_path / "rows.csv", index=False)
        want = tabula_outputs(run_tabula, model, "classification", tmp_path / "rows.csv", tmp_path)
        assert [str(p) for p in served] == [str(w) for w in want]
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_existing_directory_is_refused(run_tabula, data_dir, tmp_path):
    model = tmp_path / "m.tbl"
    run_tabula("train", "--data", data_dir / "wine.csv", "--target", "target", "--model",
               "logistic", "--out", model)
    (tmp_path / "taken").mkdir()
    result = run_tabula("export", "--model", model, "--format", "mlflow", "--out",
                        tmp_path / "taken", expect=None)
    assert result.returncode != 0 and "exists already" in result.stderr
    result = run_tabula("export", "--model", tmp_path / "missing.tbl", "--format", "mlflow",
                        "--out", tmp_path / "new", expect=None)
    assert result.returncode != 0 and not (tmp_path / "new").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
