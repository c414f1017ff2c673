"""MLflow's python_function flavour for tabula models: the loader module named in the MLmodel
file that `tabula export --format mlflow` writes. mlflow.pyfunc.load_model(directory) and
`mlflow models serve` call _load_pyfunc; predict takes a pandas DataFrame of the model's input
columns (others are ignored) and returns the predictions (params={"method": "predict_proba"}
for class probabilities, one column per class)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import load


class TabulaPyfuncModel:
    """A loaded tabula model behind MLflow's pyfunc predict."""

    def __init__(self, estimator):
        self.estimator = estimator

    def predict(self, model_input, params=None):
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        columns = [name for name, _ in self.estimator._model.input_columns]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"the model needs the columns {missing}")
        frame = frame[columns]
        method = (params or {}).get("method", "transform" if self.estimator._task == "transform"
                                    else "predict")
        if method not in ("predict", "predict_proba", "transform") or \
                not hasattr(self.estimator, method):
            raise ValueError(f"method {method!r}: this {self.estimator._task} model offers "
                             f"{'transform' if self.estimator._task == 'transform' else 'predict'}"
                             f"{', predict_proba' if self.estimator._task == 'classification' else ''}")
        if self.estimator._model.reads_matrices and not hasattr(self.estimator, "feature_names_in_"):
            frame = frame.to_numpy(np.float64)
        out = getattr(self.estimator, method)(frame)
        if method == "predict_proba":
            return pd.DataFrame(out, columns=[str(c) for c in self.estimator.classes_])
        return out


def _load_pyfunc(path):
    """MLflow's entry point: `path` is the flavour's data file (model.tbl)."""
    return TabulaPyfuncModel(load(path))
