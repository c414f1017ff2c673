"""tabula's metrics equal scikit-learn's to 1e-9 on random, tied and edge-case inputs, through
the `tabula score` verb (values travel as shortest round-trip decimal text, so exactly)."""
import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

TOL = 1e-9

LABEL_METRICS = {
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "f1": skm.f1_score,
    "f1_macro": lambda t, p: skm.f1_score(t, p, average="macro"),
    "f1_weighted": lambda t, p: skm.f1_score(t, p, average="weighted"),
    "precision": skm.precision_score,
    "precision_macro": lambda t, p: skm.precision_score(t, p, average="macro"),
    "precision_weighted": lambda t, p: skm.precision_score(t, p, average="weighted"),
    "recall": skm.recall_score,
    "recall_macro": lambda t, p: skm.recall_score(t, p, average="macro"),
    "recall_weighted": lambda t, p: skm.recall_score(t, p, average="weighted"),
}
MULTICLASS_OK = {k for k in LABEL_METRICS if k in ("accuracy", "balanced_accuracy") or "_" in k}
REGRESSION_METRICS = {
    "r2": skm.r2_score,
    "neg_mean_squared_error": lambda t, p: -skm.mean_squared_error(t, p),
    "neg_root_mean_squared_error": lambda t, p: -skm.root_mean_squared_error(t, p),
    "neg_mean_absolute_error": lambda t, p: -skm.mean_absolute_error(t, p),
    "explained_variance": skm.explained_variance_score,
}


def write_csv(path, columns):
    """Columns of numbers, written with repr() so tabula reads the exact doubles back."""
    columns = [np.asarray(c, dtype=np.float64) for c in columns]
    with open(path, "w") as f:
        f.write(",".join(f"c{j}" for j in range(len(columns))) + "\n")
        for row in zip(*columns):
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    return path


@pytest.fixture()
def score(run_tabula, tmp_path):
    counter = iter(range(1_000_000))

    def run(metric, y_true, y_pred=None, proba=None, expect=0):
        i = next(counter)
        args = ["score", "--metric", metric, "--y-true", write_csv(tmp_path / f"t{i}.csv", [y_true])]
        if y_pred is not None:
            args += ["--y-pred", write_csv(tmp_path / f"p{i}.csv", [y_pred])]
        if proba is not None:
            args += ["--proba", write_csv(tmp_path / f"q{i}.csv", list(np.asarray(proba).T))]
        result = run_tabula(*args, expect=expect)
        return float(result.stdout) if expect == 0 else result

    return run


def close(a, b):
    return abs(a - b) <= TOL * max(1.0, abs(b))


def label_cases():
    rng = np.random.default_rng(0)
    cases = []
    for n, k in [(7, 2), (50, 2), (300, 2), (40, 3), (257, 5)]:
        y = rng.integers(0, k, n)
        p = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
        cases.append((f"n{n}_k{k}", y, p))
    cases.append(("never_predicts_positive", np.array([0, 1, 1, 0, 1]), np.zeros(5, int)))
    cases.append(("all_negative", np.zeros(6, int), np.zeros(6, int)))
    cases.append(("predicted_only_label", np.array([0, 0, 1, 1, 0, 2]), np.array([0, 3, 1, 2, 0, 2])))
    return cases


@pytest.mark.parametrize("name,y,p", label_cases(), ids=[c[0] for c in label_cases()])
def test_label_metrics(score, name, y, p):
    binary = len(set(y) | set(p)) <= 2 and set(y) | set(p) <= {0, 1}
    for metric, fn in LABEL_METRICS.items():
        if not binary and metric not in MULTICLASS_OK:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = fn(y, p)
        got = score(metric, y, p)
        assert close(got, expected), (metric, got, expected)


def test_binary_metric_on_multiclass_is_refused(score):
    result = score("f1", [0, 1, 2, 1], [0, 1, 2, 2], expect=1)
    assert "average" in result.stderr


def proba_cases():
    rng = np.random.default_rng(1)
    cases = []
    for n, k, decimals in [(60, 2, None), (200, 2, 1), (500, 2, 2), (90, 3, None), (300, 4, 1)]:
        y = rng.integers(0, k, n)
        y[:k] = np.arange(k)  # every class present
        q = rng.dirichlet(np.ones(k), n)
        q[np.arange(n), y] += rng.random(n)  # informative but imperfect
        if decimals is not None:  # coarse scores: many ties
            q = np.round(q, decimals) + 1e-3
        q /= q.sum(axis=1, keepdims=True)
        cases.append((f"n{n}_k{k}_round{decimals}", y, q))
    # Extreme probabilities exercise log loss clipping at float64 eps.
    cases.append(("clipped", np.array([0, 1, 1, 0]),
                  np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])))
    return cases


@pytest.mark.parametrize("name,y,q", proba_cases(), ids=[c[0] for c in proba_cases()])
def test_probability_metrics(score, name, y, q):
    k = q.shape[1]
    expected_auc = (skm.roc_auc_score(y, q[:, 1]) if k == 2
                    else skm.roc_auc_score(y, q, multi_class="ovr", average="macro"))
    assert close(score("roc_auc", y, proba=q), expected_auc)
    expected_ll = -skm.log_loss(y, q, labels=list(range(k)))
    assert close(score("neg_log_loss", y, proba=q), expected_ll)


def test_log_loss_maps_labels_in_sorted_order(score):
    y = np.array([3, 7, 7, 3, 9])
    q = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25],
                  [0.2, 0.2, 0.6]])
    assert close(score("neg_log_loss", y, proba=q), -skm.log_loss(y, q))


def test_roc_auc_with_one_class_is_an_error(score):
    # scikit-learn >= 1.8 warns and returns NaN (older versions raised ValueError); tabula
    # refuses with a clear message, as the issue asks.
    result = score("roc_auc", [1, 1, 1], proba=[[0.2, 0.8], [0.4, 0.6], [0.9, 0.1]], expect=1)
    assert "only one class" in result.stderr


def regression_cases():
    rng = np.random.default_rng(2)
    cases = []
    for n in [2, 9, 130, 1000]:
        y = rng.normal(3, 2, n)
        cases.append((f"normal_{n}", y, y + rng.normal(0, 1, n)))
    y = rng.normal(1e6, 1, 200)
    cases.append(("large_offset", y, y + rng.normal(0, 0.1, 200)))
    cases.append(("constant_perfect", np.full(10, 0.1), np.full(10, 0.1)))
    cases.append(("constant_wrong", np.full(10, 0.1), np.full(10, 0.2)))
    cases.append(("constant_many", np.full(1000, 0.1), np.full(1000, 0.1) + rng.normal(0, 1e-3, 1000)))
    cases.append(("shifted", np.arange(20.0), np.arange(20.0) + 3.0))
    return cases


@pytest.mark.parametrize("name,y,p", regression_cases(), ids=[c[0] for c in regression_cases()])
def test_regression_metrics(score, name, y, p):
    for metric, fn in REGRESSION_METRICS.items():
        expected = fn(y, p)
        got = score(metric, y, p)
        assert close(got, expected), (metric, got, expected)


def test_unknown_metric_lists_the_known_ones(score):
    result = score("auc", [0, 1], [0, 1], expect=1)
    assert "neg_log_loss" in result.stderr and "explained_variance" in result.stderr
