"""tabula: train, tune and serve tabular models, from Python.

Estimators with scikit-learn's names and behaviour (fit, predict, predict_proba, transform,
score, get_params/set_params), fitted by tabula's engine on the CPU or a CUDA device, and saved
as the model files the ``tabula`` command line reads::

    import tabula
    model = tabula.RandomForestClassifier(n_estimators=200).fit(X, y)
    model.save("model.tbl")              # tabula predict --model model.tbl ...
    same = tabula.load("model.tbl")
"""
from __future__ import annotations

import json
import os
import tempfile

import hashlib  # noqa: F401  (before _core: see below)

import numpy as np

# A build of the repository links the .venv's pyarrow libraries (Parquet input), whose
# libparquet exports copies of OpenSSL's symbols: if libcrypto were first loaded as a
# dependency of _core, its own calls would bind to those copies and crash. hashlib loads
# libcrypto on its own first. (A `pip install .` wheel does not link Arrow.)
from . import _core
from ._base import param_text, parse_label
from ._estimators import (ESTIMATORS, DummyClassifier, DummyRegressor,
                          HistGradientBoostingClassifier, HistGradientBoostingRegressor, KMeans,
                          LinearRegression, LogisticRegression, MiniBatchKMeans, PCA,
                          RandomForestClassifier,
                          RandomForestRegressor, Ridge)

__version__ = _core.__version__
set_log_level = _core.set_log_level
__all__ = ["set_log_level", "tune", "LinearRegression", "Ridge", "LogisticRegression", "PCA", "KMeans", "MiniBatchKMeans", "RandomForestClassifier",
           "RandomForestRegressor", "HistGradientBoostingClassifier",
           "HistGradientBoostingRegressor", "DummyClassifier", "DummyRegressor", "load"]


def _param_value(value):
    """An engine parameter as scikit-learn spells it: "None" is None, numbers kept as text
    ("0.5" for max_features) are numbers."""
    if not isinstance(value, str):
        return value
    if value == "None":
        return None
    for number in (int, float):
        try:
            return number(value)
        except ValueError:
            pass
    return value


def load(path):
    """A fitted estimator from a tabula model file (written by ``model.save`` or by
    ``tabula train``). Models trained on tables with text columns score pandas DataFrames with
    those columns; the others also score numpy arrays."""
    model = _core.Model.load(os.fspath(path))
    cls = ESTIMATORS.get((model.name, model.task))
    if cls is None:
        raise ValueError(f"{os.fspath(path)}: no Python estimator for the model "
                         f"'{model.name}' ({model.task})")
    engine = json.loads(model.params_json)
    names = set(cls._get_param_names())
    estimator = cls(**{k: _param_value(v) for k, v in engine.items() if k in names})
    estimator._model = model
    columns = [name for name, _ in model.input_columns]
    estimator.n_features_in_ = len(columns)
    if not all(name == f"x{i}" for i, name in enumerate(columns)):
        estimator.feature_names_in_ = np.asarray(columns, dtype=object)
    if model.task == "classification":
        estimator.classes_ = np.asarray([parse_label(label, model.numeric_labels)
                                         for label in model.class_labels])
    estimator._set_fitted_attributes()
    return estimator


def tune(data, target, model, space=None, *, params=None, search="grid", n_iter=10, cv="auto",
         folds=5, scoring="", metrics=(), test_size=0.2, random_state=0, jobs=1, out_dir=None,
         device="auto", n_jobs=None):
    """Runs `tabula tune`'s cross-validation driver and returns its leaderboard, best first, as
    a pandas DataFrame (scikit-learn's cv_results_ names: params, param_<name>,
    mean_test_<metric>, std_test_<metric>, mean_fit_time, mean_score_time).

    data: a file (CSV, Parquet, compressed...), an SQL URL, or a pandas DataFrame (written to a
    temporary CSV file first). model: a registry name ("forest", "logistic", ...). space:
    {name: [values]} or tabula's expressions ["alpha=logspace(-3,3,7)", ...]. The test rows
    (test_size) are held out from the search; the best candidate is refitted and scored on
    them. The DataFrame's attrs hold "test_score", "test_metrics", "baseline" (the dummy
    model's row), "metric", "notes" and "best_estimator" (the refitted model, loaded).
    """
    import pandas as pd

    items = []
    if isinstance(space, dict):
        for name, values in space.items():
            if isinstance(values, str):
                items.append(f"{name}={values}")
            else:
                items.append(f"{name}=[" + ",".join(param_text(v) for v in values) + "]")
    elif space:
        items = list(space)
    with tempfile.TemporaryDirectory() as folder:
        if isinstance(data, pd.DataFrame):
            path = os.path.join(folder, "data.csv")
            data.to_csv(path, index=False)
            data = path
        result = json.loads(_core.tune(
            os.fspath(data), target, model, items,
            {k: param_text(v) for k, v in (params or {}).items()}, search, n_iter, cv, folds,
            scoring, list(metrics), test_size, random_state, jobs,
            os.fspath(out_dir) if out_dir else os.path.join(folder, "tune"), device,
            n_jobs or 0))
        best = load(result["model_path"]) if result["model_path"] else None

    def row(trial):
        out = {"params": trial["params"]}
        out.update({f"param_{k}": _param_value(v) for k, v in trial["params"].items()})
        out.update({k: v for k, v in trial.items() if k.startswith(("mean_test_", "std_test_"))})
        out["mean_fit_time"] = trial["fit_seconds"]
        out["mean_score_time"] = trial["score_seconds"]
        return out

    board = pd.DataFrame([row(t) for t in result["leaderboard"]])
    board.attrs.update(metric=result["metric_names"][0], test_score=result.get("test_score"),
                       test_metrics=result["test_metrics"], baseline=row(result["baseline"]),
                       notes=result["notes"], best_estimator=best)
    return board
