"""tabula's models as scikit-learn estimators: scikit-learn's class names, parameters and
defaults, fitted by tabula's engine (CPU or CUDA) and saved as tabula model files.

Every class adds two parameters of its own: ``device`` ("auto", "cpu", "cuda", "cuda:N") and
``n_jobs`` (CPU threads; None or -1: every core).
"""
from __future__ import annotations

from sklearn.base import ClassifierMixin, ClusterMixin, RegressorMixin, TransformerMixin

from ._base import (ClassifierMixinBase, ClusterMixinBase, RegressorMixinBase,
                    TransformerMixinBase, store_params)


class LinearRegression(RegressorMixin, RegressorMixinBase):
    """Ordinary least squares (scikit-learn's LinearRegression), solved from the Gram matrix
    (Cholesky, eigendecomposition for rank-deficient data)."""

    _registry_name, _task = "linear", "regression"

    def __init__(self, *, fit_intercept=True, device="auto", n_jobs=None):
        store_params(self, locals())


class Ridge(RegressorMixin, RegressorMixinBase):
    """Least squares with an L2 penalty ``alpha`` (scikit-learn's Ridge)."""

    _registry_name, _task = "ridge", "regression"

    def __init__(self, alpha=1.0, *, fit_intercept=True, device="auto", n_jobs=None):
        store_params(self, locals())


class LogisticRegression(ClassifierMixin, ClassifierMixinBase):
    """Binary and multinomial logistic regression with an L2 penalty (scikit-learn's
    LogisticRegression; solvers "auto", "newton-cholesky", "lbfgs")."""

    _registry_name, _task = "logistic", "classification"

    def __init__(self, penalty="l2", *, tol=1e-4, C=1.0, fit_intercept=True, class_weight=None,
                 solver="auto", max_iter=100, device="auto", n_jobs=None):
        store_params(self, locals())


class PCA(TransformerMixin, TransformerMixinBase):
    """Principal component analysis (scikit-learn's PCA): centred covariance, eigendecomposition
    or randomized SVD."""

    _registry_name, _task = "pca", "transform"

    def __init__(self, n_components=None, *, whiten=False, svd_solver="auto", device="auto",
                 n_jobs=None):
        store_params(self, locals())


class KMeans(ClusterMixin, TransformerMixin, ClusterMixinBase):
    """k-means clustering (scikit-learn's KMeans): k-means++ (greedy) or random seeding,
    ``n_init`` runs ("auto": 1 for k-means++ and given centres, 10 for random), Lloyd
    iterations with the distances from the engine's GEMM. ``algorithm="elkan"`` runs the same
    iterations with Hamerly's distance bounds (fewer products once the centres settle; the
    same labels as "lloyd" up to rows within rounding of a tie). ``init`` may be an array of
    shape (n_clusters, n_features). Fitted: cluster_centers_, labels_, inertia_, n_iter_."""

    _registry_name, _task = "kmeans", "clustering"

    def __init__(self, n_clusters=8, *, init="k-means++", n_init="auto", max_iter=300, tol=1e-4,
                 random_state=None, algorithm="lloyd", device="auto", n_jobs=None):
        store_params(self, locals())


class MiniBatchKMeans(ClusterMixin, TransformerMixin, ClusterMixinBase):
    """Mini-batch k-means (scikit-learn's MiniBatchKMeans): seeded on ``init_size`` sampled rows
    (``n_init`` runs judged on a sampled batch; "auto": 1 for k-means++ and given centres, 3 for
    random), then steps on batches of ``batch_size`` rows shuffled within windows of 65,536
    consecutive rows, stopping when the smoothed batch inertia has not fallen for
    ``max_no_improvement`` steps; centres that see too little weight move onto batch rows
    (``reassignment_ratio``). ``tabula train --model minibatch-kmeans`` runs the same fit over a
    file in passes, never holding it whole. Fitted: cluster_centers_, labels_, inertia_,
    n_iter_, n_steps_."""

    _registry_name, _task = "minibatch-kmeans", "clustering"

    def __init__(self, n_clusters=8, *, init="k-means++", max_iter=100, batch_size=1024, tol=0.0,
                 max_no_improvement=10, init_size=None, n_init="auto", random_state=None,
                 reassignment_ratio=0.01, device="auto", n_jobs=None):
        store_params(self, locals())

    def partial_fit(self, X, y=None, sample_weight=None):
        """One mini-batch step on X (scikit-learn's partial_fit): the first call seeds the
        centres on X; labels_ and inertia_ are X's. Goes on from fit() or earlier calls; a
        model loaded from a file cannot go on (its centres' seen weights are not stored)."""
        return self._partial_fit(X, sample_weight)


_FOREST_DOC = """ A histogram random forest (scikit-learn's {name}): features
    binned once into at most ``max_bins`` bins, trees grown level by level with integer
    histogram sums, so the same seed gives the same trees on any thread count and device.
    Missing values (NaN) are routed natively. ``redraw_features``: a node whose drawn features
    give no valid split draws more, as scikit-learn does (False: it becomes a leaf)."""


class RandomForestClassifier(ClassifierMixin, ClassifierMixinBase):
    __doc__ = _FOREST_DOC.format(name="RandomForestClassifier")
    _registry_name, _task, _allows_nan = "forest-classifier", "classification", True

    def __init__(self, n_estimators=100, *, criterion="gini", max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, max_features="sqrt", max_leaf_nodes=None,
                 min_impurity_decrease=0.0, bootstrap=True, oob_score=False, random_state=None,
                 class_weight=None, max_samples=None, max_bins=256, redraw_features=True,
                 device="auto", n_jobs=None):
        store_params(self, locals())


class RandomForestRegressor(RegressorMixin, RegressorMixinBase):
    __doc__ = _FOREST_DOC.format(name="RandomForestRegressor")
    _registry_name, _task, _allows_nan = "forest-regressor", "regression", True

    def __init__(self, n_estimators=100, *, criterion="squared_error", max_depth=None,
                 min_samples_split=2, min_samples_leaf=1, max_features=1.0, max_leaf_nodes=None,
                 min_impurity_decrease=0.0, bootstrap=True, oob_score=False, random_state=None,
                 max_samples=None, max_bins=256, redraw_features=True, device="auto",
                 n_jobs=None):
        store_params(self, locals())


_GBDT_DOC = """ Histogram gradient boosting (scikit-learn's {name}): features binned
    once (``max_bins`` value bins plus one for missing values), trees grown leaf-wise up to
    ``max_leaf_nodes`` leaves from fixed-point gradient and Hessian histograms, so the same
    seed gives the same model on any thread count and device. Missing values (NaN) go to the
    side each split learned. Early stopping ('auto': above 10000 rows) holds out
    ``validation_fraction`` of the rows and stops when the loss has not improved by ``tol``
    for ``n_iter_no_change`` iterations. ``categorical_features`` ("from_dtype": the text and
    category columns of a DataFrame; None; a list of column names or indices; a boolean mask)
    splits those columns on sets of categories (codes 0..max_bins-1 in a numeric column);
    unseen categories go where missing values go. Fitted: n_iter_, n_trees_per_iteration_,
    baseline_prediction_, validation_score_, is_categorical_. Not supported yet:
    monotonic_cst, interaction_cst, warm_start (accepted at their defaults only).{extra}"""


class HistGradientBoostingClassifier(ClassifierMixin, ClassifierMixinBase):
    __doc__ = _GBDT_DOC.format(
        name="HistGradientBoostingClassifier",
        extra=' ``class_weight``: "balanced" or a dict of label: weight.')
    _registry_name, _task, _allows_nan = "gbdt-classifier", "classification", True

    def __init__(self, loss="log_loss", *, learning_rate=0.1, max_iter=100, max_leaf_nodes=31,
                 max_depth=None, min_samples_leaf=20, l2_regularization=0.0, max_features=1.0,
                 max_bins=255, categorical_features="from_dtype", monotonic_cst=None,
                 interaction_cst=None, warm_start=False, early_stopping="auto", scoring="loss",
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-7, verbose=0,
                 random_state=None, class_weight=None, device="auto", n_jobs=None):
        store_params(self, locals())


class HistGradientBoostingRegressor(RegressorMixin, RegressorMixinBase):
    __doc__ = _GBDT_DOC.format(name="HistGradientBoostingRegressor", extra="")
    _registry_name, _task, _allows_nan = "gbdt-regressor", "regression", True
    _omit_if_none = ("quantile",)

    def __init__(self, loss="squared_error", *, quantile=None, learning_rate=0.1, max_iter=100,
                 max_leaf_nodes=31, max_depth=None, min_samples_leaf=20, l2_regularization=0.0,
                 max_features=1.0, max_bins=255, categorical_features="from_dtype",
                 monotonic_cst=None, interaction_cst=None, warm_start=False,
                 early_stopping="auto", scoring="loss", validation_fraction=0.1,
                 n_iter_no_change=10, tol=1e-7, verbose=0, random_state=None, device="auto",
                 n_jobs=None):
        store_params(self, locals())


class DummyClassifier(ClassifierMixin, ClassifierMixinBase):
    """The baseline every classifier must beat (scikit-learn's DummyClassifier: "prior",
    "most_frequent", "stratified", "uniform")."""

    _registry_name, _task, _allows_nan = "dummy", "classification", True

    def __init__(self, *, strategy="prior", random_state=None, device="auto", n_jobs=None):
        store_params(self, locals())


class DummyRegressor(RegressorMixin, RegressorMixinBase):
    """The baseline every regressor must beat (scikit-learn's DummyRegressor: "mean",
    "median", "quantile" with ``quantile``)."""

    _registry_name, _task, _allows_nan = "dummy", "regression", True
    _omit_if_none = ("quantile",)

    def __init__(self, *, strategy="mean", quantile=None, device="auto", n_jobs=None):
        store_params(self, locals())


# (registry name, task) -> class: what tabula.load builds, and what the tests enumerate against
# the engine's registry so that a model without a Python class fails them.
ESTIMATORS = {
    ("linear", "regression"): LinearRegression,
    ("ridge", "regression"): Ridge,
    ("logistic", "classification"): LogisticRegression,
    ("pca", "transform"): PCA,
    ("kmeans", "clustering"): KMeans,
    ("minibatch-kmeans", "clustering"): MiniBatchKMeans,
    ("forest-classifier", "classification"): RandomForestClassifier,
    ("forest", "classification"): RandomForestClassifier,
    ("forest-regressor", "regression"): RandomForestRegressor,
    ("forest", "regression"): RandomForestRegressor,
    ("gbdt-classifier", "classification"): HistGradientBoostingClassifier,
    ("gbdt", "classification"): HistGradientBoostingClassifier,
    ("gbdt-regressor", "regression"): HistGradientBoostingRegressor,
    ("gbdt", "regression"): HistGradientBoostingRegressor,
    ("dummy", "classification"): DummyClassifier,
    ("dummy", "regression"): DummyRegressor,
}
