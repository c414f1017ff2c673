"""`tabula tune --mlflow-tracking-uri DIR`: MLflow's own client reads the search from the file
store: one parent run (the best trial's params, its CV and test scores, the refitted model file
and its MLflow model directory as artifacts) and one child run per trial (its params, each
fold's score as a metric history with step = fold, mean and std). A store MLflow wrote itself
keeps its runs, and a second search joins the same experiment."""
import json

import mlflow.artifacts
import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from conftest import DATA


@pytest.fixture(autouse=True)
def allow_file_store(monkeypatch):
    # MLflow 3 keeps the file store behind this switch (the file store is in maintenance mode).
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")


def tune(run_tabula, out, store, *extra):
    return run_tabula("tune", "--data", DATA / "diabetes.csv", "--target", "target", "--model",
                      "ridge", "--param", "alpha=[0.1,1,10]", "--folds", "3", "--also",
                      "neg_mean_absolute_error", "--no-progress", "--out", out,
                      "--mlflow-tracking-uri", store, *extra)


def runs_of(client, experiment_id):
    runs = client.search_runs([experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return parents, children


def test_search_is_logged_as_parent_and_child_runs(run_tabula, tmp_path):
    store, out = tmp_path / "mlruns", tmp_path / "search"
    r = tune(run_tabula, out, store)
    assert "logged to MLflow" in r.stdout
    info = json.loads((out / "leaderboard.json").read_text())
    client = MlflowClient(tracking_uri=f"file://{store}")
    experiment = client.get_experiment_by_name("tabula")
    assert experiment is not None and experiment.lifecycle_stage == "active"
    assert client.get_experiment("0").name == "Default"  # a new store gets MLflow's default
    (parent,), children = runs_of(client, experiment.experiment_id)
    assert len(children) == 3 == len(info["leaderboard"])
    assert parent.info.status == "FINISHED" and parent.info.run_name == "tune-ridge"
    by_alpha = {row["params"]["alpha"]: row for row in info["leaderboard"]}
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.info.status == "FINISHED"
        row = by_alpha[child.data.params["alpha"]]
        for m, name in enumerate(info["metrics"]):
            history = client.get_metric_history(child.info.run_id, name)
            assert [h.step for h in sorted(history, key=lambda h: h.step)] == [0, 1, 2]
            np.testing.assert_allclose([h.value for h in sorted(history, key=lambda h: h.step)],
                                       row["scores"][m], rtol=1e-12)
            assert child.data.metrics[f"mean_{name}"] == pytest.approx(row["metrics"][name]["mean"],
                                                                       rel=1e-12)
            assert child.data.metrics[f"std_{name}"] == pytest.approx(row["metrics"][name]["std"],
                                                                      rel=1e-12, abs=1e-15)
    best = info["leaderboard"][0]
    assert parent.data.params["alpha"] == best["params"]["alpha"]
    assert parent.data.params["model"] == "ridge"
    assert parent.data.metrics["test_r2"] == pytest.approx(info["test"]["r2"], rel=1e-12)
    assert parent.data.metrics["mean_r2"] == pytest.approx(best["metrics"]["r2"]["mean"],
                                                           rel=1e-12)
    names = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"model.tabula", "model", "leaderboard.json"} <= names
    model_file = mlflow.artifacts.download_artifacts(
        run_id=parent.info.run_id, artifact_path="model.tabula",
        tracking_uri=f"file://{store}", dst_path=str(tmp_path / "download"))
    assert open(model_file, "rb").read() == (out / "model.tabula").read_bytes()
    # The MLflow model directory loads and predicts as the model file does.
    model_dir = mlflow.artifacts.download_artifacts(
        run_id=parent.info.run_id, artifact_path="model", tracking_uri=f"file://{store}",
        dst_path=str(tmp_path / "download"))
    frame = pd.read_csv(DATA / "diabetes.csv").drop(columns=["target"]).head(20)
    assert len(mlflow.pyfunc.load_model(model_dir).predict(frame)) == 20


def test_an_mlflow_written_store_keeps_its_runs(run_tabula, tmp_path):
    store = tmp_path / "mlruns"
    client = MlflowClient(tracking_uri=f"file://{store}")
    experiment_id = client.create_experiment("mine")
    own = client.create_run(experiment_id, run_name="by-mlflow")
    client.log_param(own.info.run_id, "alpha", "42")
    client.log_metric(own.info.run_id, "r2", 0.5)
    client.set_terminated(own.info.run_id)
    tune(run_tabula, tmp_path / "s1", store, "--mlflow-experiment", "mine")
    tune(run_tabula, tmp_path / "s2", store, "--mlflow-experiment", "mine", "--seed", "1")
    parents, children = runs_of(client, experiment_id)
    assert len(parents) == 3 and len(children) == 6  # MLflow's run and two searches
    kept = client.get_run(own.info.run_id)
    assert kept.data.params == {"alpha": "42"} and kept.data.metrics == {"r2": 0.5}
    searches = [p for p in parents if p.info.run_id != own.info.run_id]
    for parent in searches:
        mine = [c for c in children if c.data.tags["mlflow.parentRunId"] == parent.info.run_id]
        assert len(mine) == 3
    assert [e.name for e in client.search_experiments()].count("mine") == 1


def test_a_remote_tracking_uri_is_refused_before_the_search(run_tabula, tmp_path):
    r = run_tabula("tune", "--data", DATA / "diabetes.csv", "--target", "target", "--model",
                   "ridge", "--param", "alpha=[0.1,1]", "--no-progress", "--out",
                   tmp_path / "search", "--mlflow-tracking-uri", "http://localhost:5000",
                   expect=1)
    assert "http://localhost:5000" in r.stderr and "local" in r.stderr
    assert not (tmp_path / "search").exists()


def test_an_experiment_spec_names_the_store_relative_to_itself(run_tabula, tmp_path):
    spec = tmp_path / "spec" / "experiment.toml"
    spec.parent.mkdir()
    spec.write_text(f'data = "{DATA / "diabetes.csv"}"\ntarget = "target"\nmodel = "ridge"\n'
                    '[space]\nalpha = [0.5, 5.0]\n[scheme]\nfolds = 3\n'
                    '[mlflow]\ntracking_uri = "runs"\nexperiment = "from-spec"\n')
    run_tabula("tune", "--spec", spec, "--no-progress", "--out", tmp_path / "search")
    client = MlflowClient(tracking_uri=f"file://{spec.parent / 'runs'}")
    experiment = client.get_experiment_by_name("from-spec")
    parents, children = runs_of(client, experiment.experiment_id)
    assert len(parents) == 1 and len(children) == 2
    spec.write_text(spec.read_text() + 'store = "x"\n')
    r = run_tabula("tune", "--spec", spec, "--no-progress", "--out", tmp_path / "s2", expect=1)
    assert "mlflow.store: unknown key" in r.stderr
