"""The Python package (python/tabula): scikit-learn's estimator checks for every registered model,
the same numbers as scikit-learn's own estimators, the model file shared with the command line,
pickling, pandas tables with text columns, scikit-learn's pipelines and searches, bad input.

The estimators are enumerated from the engine's registry (tabula._core.estimator_names and
estimator_tasks): a model registered without a Python class fails test_every_registered_model.
"""
import json
import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn import cluster, datasets, decomposition, dummy, ensemble, linear_model
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import tabula
from tabula import _core
from tabula._estimators import ESTIMATORS


def registered():
    """(registry name, task) of every model the engine knows."""
    return [(name, task) for name in _core.estimator_names() for task in _core.estimator_tasks(name)]


def small(cls):
    """An instance of cls quick enough for the checks (forests: 10 trees, a fixed seed)."""
    if "n_estimators" in cls._get_param_names():
        return cls(n_estimators=10, random_state=0)
    return cls()


def test_every_registered_model():
    """Each registered (model, task) has a Python estimator whose parameters cover the
    engine's, with the engine's names."""
    for name, task in registered():
        assert (name, task) in ESTIMATORS, f"no Python estimator for {name} ({task})"
        cls = ESTIMATORS[(name, task)]
        assert cls._task == task
        engine = json.loads(_core.Model(name, {}, task).params_json)
        missing = set(engine) - set(cls._get_param_names())
        assert not missing, f"{cls.__name__} lacks the engine's parameters {sorted(missing)}"
        assert {"device", "n_jobs"} <= set(cls._get_param_names())


# Checks that fail for a reason scikit-learn's own estimators share (its test suite lists the
# same ones as expected failures for RandomForest* and Dummy*).
EXPECTED_FAILURES = {
    "RandomForestClassifier": {
        "check_sample_weight_equivalence_on_dense_data":
            "bootstrap draws: a weight of 2 is not the same as a repeated row",
    },
    "RandomForestRegressor": {
        "check_sample_weight_equivalence_on_dense_data":
            "bootstrap draws: a weight of 2 is not the same as a repeated row",
    },
    "KMeans": {
        "check_sample_weight_equivalence_on_dense_data":
            "k-means++ draws rows by cumulative weight: a weight of 2 is not the same draw as a "
            "repeated row (scikit-learn lists the same failure for its KMeans)",
    },
    "MiniBatchKMeans": {
        "check_sample_weight_equivalence_on_dense_data":
            "batches are drawn by row: a repeated row can fall in two batches, a weighted one in "
            "one (scikit-learn lists the same failure for its MiniBatchKMeans)",
    },
    "DummyClassifier": {"check_classifiers_train": "a baseline ignores X: it does not learn"},
    "DummyRegressor": {"check_regressors_train": "a baseline ignores X: it does not learn"},
}


def expected_failures(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks([small(cls) for cls in dict.fromkeys(ESTIMATORS.values())],
                         expected_failed_checks=expected_failures)
def test_scikit_learn_checks(estimator, check):
    check(estimator)


# ---- the same numbers as scikit-learn ------------------------------------------------------------

@pytest.fixture(scope="module")
def cancer():
    x, y = datasets.load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(x), y


@pytest.fixture(scope="module")
def diabetes():
    return datasets.load_diabetes(return_X_y=True)


def test_linear_models_match_scikit_learn(diabetes):
    x, y = diabetes
    for ours, theirs in [(tabula.LinearRegression(), linear_model.LinearRegression()),
                         (tabula.Ridge(alpha=0.5), linear_model.Ridge(alpha=0.5))]:
        ours.fit(x, y)
        theirs.fit(x, y)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-6)
        np.testing.assert_allclose(ours.predict(x), theirs.predict(x), rtol=1e-5, atol=1e-4)


def test_logistic_regression_matches_scikit_learn(cancer):
    x, y = cancer
    ours = tabula.LogisticRegression(C=0.5, tol=1e-10, max_iter=1000).fit(x, y)
    theirs = linear_model.LogisticRegression(C=0.5, tol=1e-10, max_iter=10000).fit(x, y)
    np.testing.assert_allclose(ours.predict_proba(x), theirs.predict_proba(x), atol=1e-5)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)


def test_pca_matches_scikit_learn(diabetes):
    x, _ = diabetes
    ours = tabula.PCA(n_components=3).fit(x)
    theirs = decomposition.PCA(n_components=3).fit(x)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-6)
    # Components are defined up to sign.
    a, b = ours.transform(x), theirs.transform(x)
    np.testing.assert_allclose(np.abs(a), np.abs(b), rtol=1e-4, atol=1e-6)


def test_kmeans_matches_scikit_learn_from_the_same_centres():
    """Lloyd from the same initial centres: the same centres, inertia and labels as
    scikit-learn's KMeans(algorithm="lloyd") (distances from a float32 GEMM, sums in float64)."""
    for x, k in [(datasets.load_iris().data, 3), (datasets.load_wine().data, 4),
                 (datasets.load_digits().data[:600], 10)]:
        x = StandardScaler().fit_transform(x).astype(np.float32).astype(np.float64)
        start = x[np.random.default_rng(k).choice(len(x), k, replace=False)]
        ours = tabula.KMeans(n_clusters=k, init=start).fit(x)
        theirs = cluster.KMeans(n_clusters=k, init=start, n_init=1, algorithm="lloyd").fit(x)
        np.testing.assert_array_equal(ours.labels_, theirs.labels_)
        scale = np.abs(theirs.cluster_centers_).max()
        np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-6,
                                   atol=1e-6 * scale)
        assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-6)
        np.testing.assert_allclose(ours.transform(x), theirs.transform(x), rtol=1e-4, atol=1e-4)
        assert ours.score(x) == pytest.approx(theirs.score(x), rel=1e-5)


def test_kmeans_elkan_matches_lloyd_and_scikit_learn():
    """algorithm="elkan" (Hamerly's bounds): from the same centres, the labels, centres and
    inertia of "lloyd", and scikit-learn's elkan's, on real and blob data."""
    blobs, _ = datasets.make_blobs(n_samples=3000, n_features=5, centers=6, random_state=2)
    for x, k in [(datasets.load_iris().data, 3), (datasets.load_wine().data, 4),
                 (datasets.load_digits().data[:600], 10), (blobs, 6), (blobs, 15)]:
        x = StandardScaler().fit_transform(x).astype(np.float32).astype(np.float64)
        start = x[np.random.default_rng(k).choice(len(x), k, replace=False)]
        lloyd = tabula.KMeans(n_clusters=k, init=start, tol=0).fit(x)
        elkan = tabula.KMeans(n_clusters=k, init=start, tol=0, algorithm="elkan").fit(x)
        theirs = cluster.KMeans(n_clusters=k, init=start, n_init=1, tol=0,
                                algorithm="elkan").fit(x)
        np.testing.assert_array_equal(elkan.labels_, lloyd.labels_)
        np.testing.assert_array_equal(elkan.labels_, theirs.labels_)
        assert elkan.n_iter_ == lloyd.n_iter_
        scale = np.abs(theirs.cluster_centers_).max()
        np.testing.assert_allclose(elkan.cluster_centers_, lloyd.cluster_centers_, rtol=1e-9,
                                   atol=1e-9 * scale)
        np.testing.assert_allclose(elkan.cluster_centers_, theirs.cluster_centers_, rtol=1e-6,
                                   atol=1e-6 * scale)
        assert elkan.inertia_ == pytest.approx(theirs.inertia_, rel=1e-6)
        assert elkan.get_params()["algorithm"] == "elkan"


def test_kmeans_plus_plus_is_as_good_as_scikit_learn():
    """Seeded by k-means++ (different random numbers): an inertia within a few percent of
    scikit-learn's on real data, better than random seeding's single run on average."""
    for x, k in [(datasets.load_iris().data, 3), (datasets.load_digits().data, 10)]:
        x = StandardScaler().fit_transform(x)
        ours = np.mean([tabula.KMeans(n_clusters=k, random_state=s).fit(x).inertia_
                        for s in range(5)])
        theirs = np.mean([cluster.KMeans(n_clusters=k, random_state=s).fit(x).inertia_
                          for s in range(5)])
        assert ours <= 1.03 * theirs, (k, ours, theirs)


def test_kmeans_attributes_and_methods():
    x, _ = datasets.make_blobs(n_samples=300, centers=4, cluster_std=0.5, random_state=0)
    model = tabula.KMeans(n_clusters=4, random_state=0)
    labels = model.fit_predict(x)
    assert labels.dtype == np.int32 and set(labels) == {0, 1, 2, 3}
    np.testing.assert_array_equal(labels, model.labels_)
    assert model.cluster_centers_.shape == (4, 2) and model.n_features_in_ == 2
    assert model.n_iter_ >= 1
    distances = model.fit_transform(x)
    assert distances.shape == (300, 4)
    np.testing.assert_array_equal(distances.argmin(axis=1), model.labels_)
    assert model.score(x) == pytest.approx(-model.inertia_, rel=1e-5)
    with pytest.raises(ValueError, match="n_clusters"):
        tabula.KMeans(n_clusters=400).fit(x)
    with pytest.raises(ValueError, match="init"):
        tabula.KMeans(init="kmeans").fit(x)
    x[3, 1] = np.nan
    with pytest.raises(ValueError):
        tabula.KMeans().fit(x)


def test_minibatch_kmeans_fits_and_partial_fits_as_scikit_learn(tmp_path):
    x, _ = datasets.make_blobs(n_samples=20_000, n_features=5, centers=6, random_state=0)
    x = x.astype(np.float32)

    def inertia(centres):
        return ((x[:, None, :] - centres[None]) ** 2).sum(-1).min(1).sum()

    ours = tabula.MiniBatchKMeans(6, random_state=0).fit(x)
    theirs = cluster.MiniBatchKMeans(6, random_state=0, n_init=1).fit(x)
    assert inertia(ours.cluster_centers_) < 1.01 * inertia(theirs.cluster_centers_)
    assert ours.n_steps_ >= 1 and ours.labels_.shape == (20_000,)
    # partial_fit over chunks, as a file too large for memory would be fed: one step each.
    ours, theirs = tabula.MiniBatchKMeans(6, random_state=0), cluster.MiniBatchKMeans(6, random_state=0)
    for begin in range(0, len(x), 2000):
        ours.partial_fit(x[begin:begin + 2000])
        theirs.partial_fit(x[begin:begin + 2000])
    assert ours.n_steps_ == 10 and ours.labels_.shape == (2000,)
    np.testing.assert_array_equal(ours.labels_, ours.predict(x[-2000:]))
    assert inertia(ours.cluster_centers_) < 1.01 * inertia(theirs.cluster_centers_)
    with pytest.raises(ValueError, match="3 features"):
        ours.partial_fit(x[:10, :3])
    path = tmp_path / "mbk.tbl"
    ours.save(path)
    with pytest.raises(ValueError, match="seen weights"):
        tabula.load(path).partial_fit(x[:2000])


def test_forests_score_as_scikit_learn(cancer, diabetes):
    x, y = cancer
    for ours, theirs in [(tabula.RandomForestClassifier(random_state=0),
                          ensemble.RandomForestClassifier(random_state=0)),
                         (tabula.RandomForestRegressor(random_state=0),
                          ensemble.RandomForestRegressor(random_state=0))]:
        data = (x, y) if ours._task == "classification" else diabetes
        a = cross_val_score(ours, *data, cv=3).mean()
        b = cross_val_score(theirs, *data, cv=3).mean()
        assert abs(a - b) < 0.03, (type(ours).__name__, a, b)
        assert ours.fit(*data).feature_importances_.sum() == pytest.approx(1.0)


def test_dummies_match_scikit_learn(cancer, diabetes):
    x, y = cancer
    np.testing.assert_allclose(tabula.DummyClassifier().fit(x, y).predict_proba(x),
                               dummy.DummyClassifier().fit(x, y).predict_proba(x))
    x, y = diabetes
    np.testing.assert_allclose(
        tabula.DummyRegressor(strategy="median").fit(x, y).predict(x),
        dummy.DummyRegressor(strategy="median").fit(x, y).predict(x))


def test_forest_is_the_same_on_any_thread_count(cancer):
    x, y = cancer
    one = tabula.RandomForestClassifier(n_estimators=20, random_state=3, n_jobs=1).fit(x, y)
    two = tabula.RandomForestClassifier(n_estimators=20, random_state=3, n_jobs=2).fit(x, y)
    np.testing.assert_array_equal(one.predict_proba(x), two.predict_proba(x))


# ---- the model file, pickling ----------------------------------------------------------------

def fitted_examples():
    """Every estimator class fitted on a small data set of its task."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(120, 4))
    y_class = np.where(x[:, 0] + 0.3 * rng.normal(size=120) > 0, "yes", "no")
    y_value = 2 * x[:, 1] - x[:, 2] + 0.1 * rng.normal(size=120)
    for cls in dict.fromkeys(ESTIMATORS.values()):
        estimator = small(cls)
        if cls._task in ("transform", "clustering"):
            yield estimator.fit(x), x, None
        else:
            yield estimator.fit(x, y_class if cls._task == "classification" else y_value), x, None


def outputs(estimator, x):
    if estimator._task == "transform":
        return [estimator.transform(x)]
    if estimator._task == "clustering":
        return [estimator.predict(x), estimator.transform(x)]
    if estimator._task == "classification":
        return [estimator.predict(x), estimator.predict_proba(x)]
    return [estimator.predict(x)]


@pytest.mark.parametrize("index", range(len(dict.fromkeys(ESTIMATORS.values()))))
def test_save_load_and_pickle_give_the_same_outputs(index, tmp_path):
    estimator, x, _ = list(fitted_examples())[index]
    path = tmp_path / "model.tbl"
    estimator.save(path)
    loaded = tabula.load(path)
    assert type(loaded) is type(estimator)
    assert loaded.get_params() == estimator.get_params()
    for copy in (loaded, pickle.loads(pickle.dumps(estimator))):
        for a, b in zip(outputs(estimator, x), outputs(copy, x)):
            np.testing.assert_array_equal(a, b)


def test_saved_model_scores_in_the_command_line(run_tabula, tmp_path):
    """model.save writes the file `tabula predict` reads, with the class labels as given."""
    x, y = datasets.load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])
    frame = pd.DataFrame(x, columns=["sl", "sw", "pl", "pw"])
    model = tabula.RandomForestClassifier(n_estimators=15, random_state=1).fit(frame, names[y])
    assert list(model.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    model.save(tmp_path / "iris.tbl")
    frame.to_csv(tmp_path / "iris.csv", index=False)
    for flags in ([], ["--proba"]):
        run_tabula("predict", "--model", tmp_path / "iris.tbl", "--data", tmp_path / "iris.csv",
                   "--out", tmp_path / "out.csv", *flags)
        cli = pd.read_csv(tmp_path / "out.csv")
        if flags:
            assert list(cli.columns) == [f"proba_{name}" for name in names]
            np.testing.assert_allclose(cli.to_numpy(), model.predict_proba(frame), atol=1e-12)
        else:
            np.testing.assert_array_equal(cli.iloc[:, -1].to_numpy(), model.predict(frame))


def test_command_line_model_loads_in_python(run_tabula, data_dir, tmp_path):
    """A model `tabula train` wrote (text columns, one-hot inside) scores DataFrames."""
    run_tabula("train", "--data", data_dir / "titanic.csv", "--target", "survived", "--model",
               "logistic", "--out", tmp_path / "titanic.tbl", "--seed", "0")
    run_tabula("predict", "--model", tmp_path / "titanic.tbl", "--data",
               data_dir / "titanic.csv", "--out", tmp_path / "out.csv")
    model = tabula.load(tmp_path / "titanic.tbl")
    assert isinstance(model, tabula.LogisticRegression)
    frame = pd.read_csv(data_dir / "titanic.csv").drop(columns=["survived"])
    cli = pd.read_csv(tmp_path / "out.csv")
    np.testing.assert_array_equal(model.predict(frame), cli.iloc[:, -1].to_numpy())
    with pytest.raises(ValueError, match="pass a pandas DataFrame"):
        model.predict(np.zeros((2, model.n_features_in_)))


def test_text_columns_go_through_the_pipeline(data_dir):
    frame = pd.read_csv(data_dir / "titanic.csv")
    y = frame.pop("survived")
    model = tabula.RandomForestClassifier(n_estimators=30, random_state=0).fit(frame, y)
    assert model.score(frame, y) > 0.8
    names = model._model.feature_names_out
    assert any("=" in name for name in names), names  # one-hot columns of the text columns
    # A category as pandas' dtype, and an unseen value, score too (handle_unknown=ignore).
    other = frame.copy()
    other["sex"] = other["sex"].astype("category")
    np.testing.assert_array_equal(model.predict(other), model.predict(frame))


# ---- scikit-learn's tools ----------------------------------------------------------------------

def test_pipeline_and_grid_search(cancer):
    x, y = cancer
    search = GridSearchCV(make_pipeline(StandardScaler(), tabula.LogisticRegression()),
                          {"logisticregression__C": [0.01, 1.0]}, cv=3, scoring="roc_auc")
    search.fit(x, y)
    assert search.best_score_ > 0.95
    forest = GridSearchCV(tabula.RandomForestClassifier(n_estimators=10, random_state=0),
                          {"max_depth": [2, None]}, cv=3).fit(x, y)
    assert forest.best_params_["max_depth"] in (2, None)
    assert sklearn.base.clone(forest.best_estimator_).get_params()["n_estimators"] == 10


# ---- bad input ------------------------------------------------------------------------------------

def test_bad_input_raises_scikit_learns_errors(cancer):
    x, y = cancer
    with pytest.raises(NotFittedError):
        tabula.Ridge().predict(x)
    model = tabula.Ridge().fit(x, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(x[:, :5])
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        tabula.Ridge().fit(bad, y)
    with pytest.raises(ValueError, match="n_estimators"):
        tabula.RandomForestClassifier(n_estimators=0).fit(x, y)
    with pytest.raises(ValueError, match="class"):
        tabula.LogisticRegression().fit(x, np.zeros(len(y)))
    # The forest routes missing values itself.
    assert tabula.RandomForestClassifier(n_estimators=5).fit(bad, y).predict(bad).shape == y.shape


# ---- tabula's own search ------------------------------------------------------------------------

def test_tune_returns_the_leaderboard(data_dir, tmp_path):
    board = tabula.tune(data_dir / "breast_cancer.csv", "target", "logistic",
                        {"C": [0.01, 1.0, 100.0]}, scoring="roc_auc", metrics=["accuracy"],
                        out_dir=tmp_path / "search")
    assert len(board) == 3
    assert sorted(board["param_C"]) == [0.01, 1.0, 100.0]
    scores = board["mean_test_roc_auc"].to_numpy()
    assert (np.diff(scores) <= 0).all(), "best first"
    assert board.attrs["metric"] == "roc_auc"
    assert "mean_test_accuracy" in board.columns
    assert 0.9 < board.attrs["test_score"] <= 1.0
    assert board.attrs["baseline"]["mean_test_roc_auc"] == pytest.approx(0.5)
    best = board.attrs["best_estimator"]
    assert isinstance(best, tabula.LogisticRegression)
    assert best.C == board["param_C"].iloc[0]
    assert (tmp_path / "search" / "leaderboard.csv").exists()
    # A DataFrame works as the data, and a bad space is a ValueError naming it.
    frame = pd.read_csv(data_dir / "diabetes.csv")
    board = tabula.tune(frame, "target", "ridge", {"alpha": [0.1, 10.0]}, cv="kfold", folds=3)
    assert list(board.columns[:2]) == ["params", "param_alpha"]
    with pytest.raises(ValueError, match="nonsense"):
        tabula.tune(frame, "target", "ridge", {"nonsense": [1]})


def test_type_stubs_are_current():
    """python/tabula/_core.pyi (committed, shipped) is what nanobind's stubgen makes of this
    build's extension (<build>/python/_core.generated.pyi)."""
    import pathlib
    package = pathlib.Path(tabula.__file__).parent
    generated = package.parent / "_core.generated.pyi"
    if not generated.exists():
        pytest.skip("an installed package: the stub is checked against a build tree's")
    committed = pathlib.Path(__file__).resolve().parents[2] / "python" / "tabula" / "_core.pyi"
    assert committed.read_text() == generated.read_text(), (
        "python/tabula/_core.pyi is stale: copy <build>/python/_core.generated.pyi over it")


def test_threads_fit_and_predict_at_once(cancer):
    """The GIL is released in the engine: estimators with different n_jobs fitted and scored
    from several threads at once give what they give one at a time."""
    import concurrent.futures
    x, y = cancer
    made = [tabula.RandomForestClassifier(n_estimators=15, random_state=s, n_jobs=1 + s % 2)
            for s in range(6)]
    alone = [sklearn.base.clone(m).fit(x, y).predict_proba(x) for m in made]

    def one(model):
        return model.fit(x, y).predict_proba(x)

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        together = list(pool.map(one, made))
    for a, b in zip(alone, together):
        np.testing.assert_array_equal(a, b)
