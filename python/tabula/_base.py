"""What every tabula estimator shares: input checks in scikit-learn's style, the call into the
engine (tabula._core.Model), fitted attributes, pickling and the model file.

Each public class (tabula/_estimators.py) only names its registry entry, its task and its
parameters; fit, predict, predict_proba, transform and save are written once here.
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _core

_FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))

# Tasks fitted without a target.
UNSUPERVISED = ("transform", "clustering")

# Parameters of every estimator that steer the engine rather than the model.
ENGINE_PARAMS = ("device", "n_jobs")


def store_params(estimator, arguments):
    """Stores an __init__'s arguments as attributes of the same names, unchanged, as
    scikit-learn requires (validation happens in fit)."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def param_text(value) -> str:
    """A parameter value as the engine's --param text (scikit-learn's spelling)."""
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def list_text(value) -> str:
    """A list parameter (categorical_features' names, indices or mask) as the engine's JSON
    text: strings stay names, integers indices, booleans a mask."""
    items = value.tolist() if isinstance(value, np.ndarray) else list(value)
    return json.dumps([bool(v) if isinstance(v, (bool, np.bool_)) else
                       int(v) if isinstance(v, (int, np.integer)) else str(v) for v in items])


def text_columns(frame) -> bool:
    """Whether a pandas DataFrame has columns that are not numbers (text, category, bool)."""
    return any(not (np.issubdtype(dtype, np.number) and dtype.kind != "b")
               if isinstance(dtype, np.dtype) else True for dtype in frame.dtypes)


def frame_columns(frame):
    """A DataFrame as the engine's named columns: float64 numbers (NaN missing), or int32 codes
    (-1 missing) into the sorted distinct texts, as tabula's CSV reader codes them."""
    columns = []
    for name in frame.columns:
        series = frame[name]
        dtype = series.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
            columns.append((str(name), np.ascontiguousarray(series.to_numpy(np.float64,
                                                                             na_value=np.nan))))
            continue
        missing = series.isna().to_numpy()
        text = series.astype(object).where(~missing, None).map(
            lambda v: v if v is None else str(v)).to_numpy(object)
        present = text[~missing].astype(str)
        categories, inverse = np.unique(present, return_inverse=True)
        codes = np.full(len(text), -1, np.int32)
        codes[~missing] = inverse.astype(np.int32)
        columns.append((str(name), (codes, [str(c) for c in categories])))
    return columns


def parse_label(text: str, numeric: bool):
    if not numeric:
        return text
    number = float(text)
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() \
        else number


class TabulaEstimator(BaseEstimator):
    """Base of the public estimators; see tabula/_estimators.py."""

    _registry_name: str = ""
    _task: str = ""
    _allows_nan: bool = False
    # Python-side parameter name -> engine name, where they differ.
    _engine_names: dict = {}
    # Parameters whose None means "not given" to the engine (it spells no None for them).
    _omit_if_none: tuple = ()

    # ---- scikit-learn's conventions ---------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._allows_nan
        return tags

    def _engine_params(self) -> dict:
        params = {}
        for key, value in self.get_params(deep=False).items():
            if key in ENGINE_PARAMS or (value is None and key in self._omit_if_none):
                continue
            if key == "class_weight" and isinstance(value, dict):
                continue  # applied as sample weights (_weights)
            if key == "random_state":
                if value is None:
                    continue
                value = check_random_state(value).randint(np.iinfo(np.int32).max) \
                    if not isinstance(value, (int, np.integer)) else int(value)
            if key == "categorical_features" and value is not None and \
                    not isinstance(value, str):
                params[key] = list_text(value)
                continue
            params[self._engine_names.get(key, key)] = param_text(value)
        return params

    def _seed(self) -> int:
        state = getattr(self, "random_state", None)
        if isinstance(state, (int, np.integer)):
            return int(state) & 0xFFFFFFFFFFFFFFFF
        return int(check_random_state(state).randint(np.iinfo(np.int32).max))

    def _engine(self):
        return getattr(self, "device", "auto"), (getattr(self, "n_jobs", None) or 0)

    # ---- fit ----------------------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None):
        """Fits the model on X (numpy array or pandas DataFrame; text and category columns go
        through tabula's own pipeline: one-hot encoded, or coded for gradient boosting's
        categorical_features) and, for classifiers and regressors, y."""
        model = _core.Model(self._registry_name, self._engine_params(), self._task)
        device, n_jobs = self._engine()
        frame = _as_text_frame(X)
        supervised = self._task not in UNSUPERVISED
        if frame is not None:
            if supervised and y is None:
                raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                                 "target y is None.")
            self.n_features_in_ = frame.shape[1]
            self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
            rows = frame.shape[0]
            y_engine, n_classes = self._encode_target(y) if supervised else (None, 0)
            if supervised and len(y_engine) != rows:
                raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                                 f"[{rows}, {len(y_engine)}]")
            weight = self._weights(sample_weight, rows, y_engine)
            model.fit_columns(frame_columns(frame), y_engine, weight, n_classes, self._seed(),
                              device, n_jobs)
        else:
            x, y_checked = self._check_fit_input(X, y)
            y_engine, n_classes = self._encode_target(y_checked) if supervised else (None, 0)
            weight = self._weights(sample_weight, x.shape[0], y_engine)
            names = [str(n) for n in getattr(self, "feature_names_in_", [])] or \
                [f"x{i}" for i in range(x.shape[1])]
            model.fit_matrix(_engine_matrix(x), y_engine, weight, n_classes, self._seed(),
                             device, n_jobs, names)
        self._model = model
        self._set_fitted_attributes()
        return self

    def _check_fit_input(self, X, y):
        nan = "allow-nan" if self._allows_nan else True
        if self._task in UNSUPERVISED:
            return validate_data(self, X, dtype=[np.float32, np.float64], ensure_all_finite=nan,
                                 ensure_min_samples=2), None
        return validate_data(self, X, y, dtype=[np.float32, np.float64], ensure_all_finite=nan,
                             y_numeric=self._task == "regression")

    def _encode_target(self, y):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if self._task == "regression":
            y = np.ascontiguousarray(y, dtype=np.float64)
            if not np.all(np.isfinite(y)):
                raise ValueError("Input y contains NaN or infinity.")
            return y, 0
        check_classification_targets(y)
        if y.dtype.kind in "iuf":
            # Hash, then search the few classes: np.unique's sort of every label cost 3% of a
            # 1M-row forest fit.
            self.classes_ = np.sort(pd.unique(y))
            index = np.searchsorted(self.classes_, y)
        else:
            self.classes_, index = np.unique(y, return_inverse=True)
        return np.ascontiguousarray(index, dtype=np.float64), len(self.classes_)

    def _weights(self, sample_weight, rows, index=None):
        """The engine's sample weights: sample_weight, times a class_weight given as a dict
        (per label, as scikit-learn applies it; "balanced" the engine computes itself)."""
        weight = None if sample_weight is None else _check_sample_weight(
            sample_weight, np.empty((rows, 0)), dtype=np.float64)
        class_weight = getattr(self, "class_weight", None)
        if isinstance(class_weight, dict) and index is not None:
            per_class = np.asarray([float(class_weight.get(c, 1.0)) for c in self.classes_])
            weight = per_class[index.astype(np.intp)] * (1.0 if weight is None else weight)
        return None if weight is None else np.ascontiguousarray(weight, dtype=np.float64)

    def _set_fitted_attributes(self):
        summary = json.loads(self._model.summary_json)
        for key, value in summary.items():
            if key.endswith("_") and not key.startswith("_") and value is not None and \
                    key not in ("n_features_in_", "feature_names_in_", "classes_"):
                setattr(self, key, np.asarray(value) if isinstance(value, list) else value)

    # ---- scoring ------------------------------------------------------------------------------
    def _apply(self, method, X):
        device, n_jobs = self._engine()
        model = getattr(self, "_model", None)
        if model is not None and self._plain_matrix(X):
            # A float array of the fitted width: what validate_data would accept as it is, at a
            # fraction of its cost (a one-row predict spends most of its time there).
            return model.apply_matrix(method, _engine_matrix(X), device, n_jobs)
        check_is_fitted(self, "_model")
        frame = _as_text_frame(X)
        if frame is None and not self._model.reads_matrices and _is_frame(X):
            frame = X  # its pipeline reads named columns, numbers included
        if frame is not None or not self._model.reads_matrices:
            if frame is None:
                raise ValueError(f"{type(self).__name__} reads named columns through its "
                                 "pipeline (text columns, or a model from `tabula train`): pass "
                                 "a pandas DataFrame with the columns "
                                 f"{[n for n, _ in self._model.input_columns]}")
            return self._model.apply_columns(method, frame_columns(frame), device, n_jobs)
        nan = "allow-nan" if self._allows_nan else True
        x = validate_data(self, X, reset=False, dtype=[np.float32, np.float64],
                          ensure_all_finite=nan)
        return self._model.apply_matrix(method, _engine_matrix(x), device, n_jobs)

    def _plain_matrix(self, X):
        """Whether X needs none of validate_data's work: a 2-D float32/float64 ndarray of the
        fitted width, a model fitted without feature names that reads matrices, and values it
        accepts (no infinity; no NaN unless the model routes it)."""
        if type(X) is not np.ndarray or X.ndim != 2 or X.dtype not in _FLOAT_TYPES or \
                X.shape[1] != getattr(self, "n_features_in_", -1) or X.shape[0] == 0 or \
                hasattr(self, "feature_names_in_") or not self._model.reads_matrices:
            return False
        if self._allows_nan:
            return not np.isinf(X).any()
        return bool(np.isfinite(X).all())

    # ---- the model file -----------------------------------------------------------------------
    def save(self, path):
        """Writes the fitted model as a tabula model file, the one `tabula train` writes: the
        command line (predict, serve, inspect) and tabula.load read it."""
        check_is_fitted(self, "_model")
        classes = getattr(self, "classes_", None)
        labels = [] if classes is None else [str(c) for c in classes]
        numeric = classes is None or classes.dtype.kind in "iuf"
        self._model.save(os.fspath(path), "", labels, bool(numeric))

    def to_onnx(self, path):
        """Writes the fitted model as an ONNX file (what `tabula export --format onnx` writes,
        docs/onnx.md): input "X" (float64 [N, n_features_in_]) for a model fitted on numbers,
        one input per column for a DataFrame with text columns. Returns the path."""
        check_is_fitted(self, "_model")
        with tempfile.TemporaryDirectory() as folder:
            model_file = os.path.join(folder, "model.tbl")
            self.save(model_file)
            _core.export_onnx(model_file, os.fspath(path))
        return path

    def __getstate__(self):
        state = self.__dict__.copy()
        model = state.pop("_model", None)
        if model is not None:
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "model.tbl")
                self.save(path)
                with open(path, "rb") as f:
                    state["_model_file"] = f.read()
        return state

    def __setstate__(self, state):
        blob = state.pop("_model_file", None)
        self.__dict__.update(state)
        if blob is not None:
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "model.tbl")
                with open(path, "wb") as f:
                    f.write(blob)
                self._model = _core.Model.load(path)


class ClassifierMixinBase(TabulaEstimator):
    def predict(self, X):
        """Predicted class labels."""
        index = self._apply("predict", X)
        return self.classes_[index.astype(np.intp)]

    def predict_proba(self, X):
        """Class probabilities, columns in the order of classes_."""
        return self._apply("predict_proba", X)

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class RegressorMixinBase(TabulaEstimator):
    def predict(self, X):
        """Predicted values."""
        return self._apply("predict", X)


class TransformerMixinBase(TabulaEstimator):
    def fit(self, X, y=None):
        """Fits the transform on X (y is ignored)."""
        return super().fit(X)

    def transform(self, X):
        """The transformed rows."""
        return self._apply("transform", X)


class ClusterMixinBase(TabulaEstimator):
    """Clusterings: labels_ of the training rows, predict (nearest cluster), transform
    (distance to each centre) and score (-inertia of X), as scikit-learn's KMeans."""

    def _engine_params(self) -> dict:
        params = super()._engine_params()
        init = getattr(self, "init", None)
        if not isinstance(init, str) and init is not None:
            if callable(init):
                raise ValueError("init as a callable is not supported: pass 'k-means++', "
                                 "'random' or an array of shape (n_clusters, n_features)")
            params["init"] = json.dumps(np.asarray(init, dtype=np.float64).tolist())
        return params

    def fit(self, X, y=None, sample_weight=None):
        """Fits the clustering on X (y is ignored); labels_ are the training rows' clusters."""
        super().fit(X, None, sample_weight)
        # The fit's last assignment labels the rows; no second pass over X.
        labels = self._model.training_labels()
        self.labels_ = self.predict(X) if labels is None else labels
        return self

    def _partial_fit(self, X, sample_weight):
        """One step of an incremental fit on X (partial_fit of the models that have one):
        the first call makes the engine's model; later ones check X's width against it."""
        first = getattr(self, "_model", None) is None
        x = validate_data(self, X, reset=first, dtype=[np.float32, np.float64])
        if first:
            self._model = _core.Model(self._registry_name, self._engine_params(), self._task)
        device, n_jobs = self._engine()
        names = [str(n) for n in getattr(self, "feature_names_in_", [])] or \
            [f"x{i}" for i in range(x.shape[1])]
        self._model.partial_fit_matrix(_engine_matrix(x), self._weights(sample_weight, x.shape[0]),
                                       self._seed(), device, n_jobs, names)
        self._set_fitted_attributes()
        self.labels_ = self._model.training_labels()
        return self

    def predict(self, X):
        """Index of the nearest cluster centre per row."""
        return self._apply("predict", X).astype(np.int32)

    def transform(self, X):
        """Euclidean distance from each row to each centre (n_samples x n_clusters)."""
        return self._apply("transform", X)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the inertia of X under the fitted centres (scikit-learn's KMeans.score)."""
        nearest = self.transform(X).min(axis=1) ** 2
        if sample_weight is not None:
            nearest = nearest * _check_sample_weight(sample_weight, np.empty((len(nearest), 0)))
        return -float(nearest.sum())


def _as_text_frame(X):
    """X when it is a pandas DataFrame with text or category columns (tabula's pipeline reads
    those), else None (numbers go through scikit-learn's checks as an array)."""
    return X if _is_frame(X) and text_columns(X) else None


def _is_frame(X):
    return isinstance(X, pd.DataFrame)


def _engine_matrix(x):
    """float32, C order: the engine's input, copied only when x is not already that."""
    return np.ascontiguousarray(x, dtype=np.float32)
