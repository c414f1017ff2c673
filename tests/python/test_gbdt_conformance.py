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
outliers, median |error| 0.937 / 0.928; class_weight='balanced', balanced accuracy 0.858 / 0.854.
"""
import numpy as np
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
