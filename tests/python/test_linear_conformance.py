"""Conformance of tabula's linear models, logistic regression and PCA with scikit-learn.

Every fit goes through the command line (`tabula train ... --test-size 0`, `tabula inspect
--json`, `tabula predict`, `tabula transform`) on real data (data/*.csv) and seeded synthetic
data. tabula reads features as float32, so scikit-learn gets the same float32-rounded values
(in float64) and any difference is the solver's, not the parser's.

Tolerances (issue 3): OLS / ridge coefficients 1e-5 relative on well-conditioned data, the same
predictions on collinear data, logistic coefficients 1e-4 at the same C, PCA components up to
sign and explained variance 1e-5.
"""
import json
import os
import pathlib
import subprocess

import numpy as np
import pandas as pd
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


def _find_tabula():
    """$TABULA_BIN, else the newest build/*/tabula or build-*/tabula."""
    env = os.environ.get("TABULA_BIN", "")
    if env and os.access(env, os.X_OK):
        return env
    found = [p for p in list(ROOT.glob("build/*/tabula")) + list(ROOT.glob("build*/tabula"))
             if p.is_file() and os.access(p, os.X_OK)]
    return str(max(found, key=lambda p: p.stat().st_mtime)) if found else None


@pytest.fixture(scope="module")
def tabula():
    binary = _find_tabula()
    if binary is None:
        pytest.skip("no tabula binary: build it or set TABULA_BIN")
    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    verbs = {line.split()[0] for line in help_text.splitlines() if line.startswith("  ")
             and line.split() and not line.split()[0].startswith("-")}
    for verb in ("train", "inspect", "predict", "transform"):
        if verb not in verbs:
            pytest.skip(f"{binary} has no `{verb}` verb yet")

    def run(*args, check=True):
        result = subprocess.run([binary, *map(str, args)], capture_output=True, text=True)
        assert not check or result.returncode == 0, (
            f"tabula {' '.join(map(str, args))} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        return result

    return run


def _find_key(node, key):
    """The first dict in a JSON tree that has `key` (inspect's layout is the framework's)."""
    if isinstance(node, dict):
        if isinstance(node.get(key), list):  # values, not an index entry (dtype, shape)
            return node
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find_key(child, key)
        if found is not None:
            return found
    return None


def fit(tabula, tmp_path, csv, target, model, **params):
    """Trains on every row; returns the fitted attributes and the model path."""
    out = tmp_path / f"{model}.tabula"
    # Raw features, as the scikit-learn estimators below see them: no default scaling.
    args = ["train", "--data", csv, "--target", target, "--model", model, "--seed", "0",
            "--scale", "none", "--out", out]
    if model != "pca":  # transforms are always fitted on every row
        args += ["--test-size", "0"]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    result = tabula(*args, check=False)
    if result.returncode != 0 and "test size" in result.stderr:
        pytest.skip("`tabula train --test-size 0` (fit on every row, needed to compare with "
                    f"scikit-learn on the same rows) is refused: {result.stderr.strip()}")
    assert result.returncode == 0, f"tabula train failed:\n{result.stderr}"
    summary = json.loads(tabula("inspect", out, "--json").stdout)
    for key in ("coef_", "components_"):
        fitted = _find_key(summary.get("fitted", {}), key) or _find_key(summary, key)
        if fitted is not None:
            return fitted, out
    raise AssertionError(f"no fitted attributes in `tabula inspect --json`: {summary}")


def read_xy(csv, target):
    frame = pd.read_csv(csv)
    x = frame.drop(columns=[target]).to_numpy(dtype=np.float32).astype(np.float64)
    return x, frame[target].to_numpy(dtype=np.float64)


def write_csv(path, x, y=None, target="target"):
    """float32 values written with 9 significant digits, so they parse back exactly."""
    frame = pd.DataFrame(x.astype(np.float32), columns=[f"f{j}" for j in range(x.shape[1])])
    if y is not None:
        frame[target] = y
    frame.to_csv(path, index=False, float_format="%.9g")
    return frame.drop(columns=[target] if y is not None else []).to_numpy(np.float64)


def assert_rel(actual, expected, rtol, what):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} vs {expected.shape}"
    scale = max(np.abs(expected).max(), 1e-300)
    err = np.abs(actual - expected).max() / scale
    assert err <= rtol, f"{what}: max error {err:.3g} (relative to max |value|) > {rtol}"


# ---- least squares ---------------------------------------------------------------------------

@pytest.mark.parametrize("model,params,reference", [
    ("linear", {}, LinearRegression()),
    ("ridge", {"alpha": 1.0}, Ridge(alpha=1.0)),
    ("ridge", {"alpha": 0.01, "fit_intercept": "false"}, Ridge(alpha=0.01, fit_intercept=False)),
])
def test_least_squares_on_diabetes(tabula, tmp_path, model, params, reference):
    csv = DATA / "diabetes.csv"
    fitted, _ = fit(tabula, tmp_path, csv, "target", model, **params)
    x, y = read_xy(csv, "target")
    reference.fit(x, y)
    assert_rel(np.ravel(fitted["coef_"]), reference.coef_, 1e-5, f"{model} coef_")
    assert_rel(np.ravel(fitted["intercept_"]), np.ravel(reference.intercept_), 1e-5,
               f"{model} intercept_")


def test_sample_weight_column_matches_scikit_learn(tabula, tmp_path):
    """`--sample-weight COL`: the column is a weight, not a feature, for the model's fit."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(2000, 6)) * 3.0
    y = x @ rng.normal(size=6) + 1.5 + rng.normal(size=2000) * (1 + np.abs(x[:, 0]))
    weights = rng.uniform(0.0, 4.0, size=2000).round(3)
    csv = tmp_path / "weighted.csv"
    x = write_csv(csv, x, y)
    frame = pd.read_csv(csv)
    frame["w"] = weights
    frame.to_csv(csv, index=False, float_format="%.9g")
    for model, reference, params in [("linear", LinearRegression(), {}),
                                     ("ridge", Ridge(alpha=3.0), {"alpha": 3.0})]:
        out = tmp_path / f"{model}-weighted.tabula"
        args = ["train", "--data", csv, "--target", "target", "--model", model,
                "--sample-weight", "w", "--test-size", "0", "--scale", "none", "--out", out]
        for key, value in params.items():
            args += ["--param", f"{key}={value}"]
        tabula(*args)
        summary = json.loads(tabula("inspect", out, "--json").stdout)
        fitted = _find_key(summary.get("fitted", {}), "coef_") or _find_key(summary, "coef_")
        reference.fit(x, y, sample_weight=weights)
        assert np.ravel(fitted["coef_"]).shape == (6,), "the weight column became a feature"
        assert_rel(np.ravel(fitted["coef_"]), reference.coef_, 1e-5, f"{model} weighted coef_")
        unweighted = reference.__class__(**reference.get_params()).fit(x, y)
        assert np.abs(unweighted.coef_ - reference.coef_).max() > 1e-3, "weights had no effect"
    bad = tmp_path / "bad-weights.csv"
    frame.loc[5, "w"] = -1.0
    frame.to_csv(bad, index=False, float_format="%.9g")
    result = tabula("train", "--data", bad, "--target", "target", "--model", "linear",
                    "--sample-weight", "w", "--out", tmp_path / "never.tabula", check=False)
    assert result.returncode == 1 and "data row 6" in result.stderr and "'w'" in result.stderr
    assert not (tmp_path / "never.tabula").exists()


def test_least_squares_on_synthetic_data(tabula, tmp_path):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3000, 12)) * rng.uniform(0.5, 20, size=12) + rng.normal(size=12) * 50
    y = x @ rng.normal(size=12) + 3.0 + rng.normal(size=3000)
    csv = tmp_path / "synthetic.csv"
    x = write_csv(csv, x, y)
    for model, reference, params in [("linear", LinearRegression(), {}),
                                     ("ridge", Ridge(alpha=25.0), {"alpha": 25.0})]:
        fitted, _ = fit(tabula, tmp_path, csv, "target", model, **params)
        reference.fit(x, y)
        assert_rel(np.ravel(fitted["coef_"]), reference.coef_, 1e-5, f"{model} coef_")


def test_collinear_data_gives_sklearn_predictions(tabula, tmp_path):
    rng = np.random.default_rng(11)
    base = rng.integers(-50, 50, size=(500, 3)).astype(np.float64)
    # f3 = f0 + f1 and f4 = 2 f2 exactly (small integers are exact in float32).
    x = np.column_stack([base, base[:, 0] + base[:, 1], 2 * base[:, 2]])
    y = base @ np.array([1.0, -2.0, 0.5]) + 4.0 + rng.normal(size=500)
    csv = tmp_path / "collinear.csv"
    x = write_csv(csv, x, y)
    _, model_path = fit(tabula, tmp_path, csv, "target", "linear")
    features = tmp_path / "features.csv"
    pd.read_csv(csv).drop(columns=["target"]).to_csv(features, index=False)
    out = tmp_path / "pred.csv"
    tabula("predict", "--model", model_path, "--data", features, "--out", out)
    ours = pd.read_csv(out)["prediction"].to_numpy()
    theirs = LinearRegression().fit(x, y).predict(x)
    assert_rel(ours, theirs, 1e-6, "predictions on collinear data")


# ---- logistic regression ---------------------------------------------------------------------

@pytest.mark.parametrize("csv,params", [
    ("breast_cancer.csv", {"C": 1.0}),
    ("breast_cancer.csv", {"C": 0.05, "class_weight": "balanced"}),
    ("wine.csv", {"C": 0.5}),
])
def test_logistic_matches_sklearn(tabula, tmp_path, csv, params):
    path = DATA / csv
    tight = {"tol": 1e-10, "max_iter": 1000}
    fitted, model_path = fit(tabula, tmp_path, path, "target", "logistic", **params, **tight)
    x, y = read_xy(path, "target")
    reference = LogisticRegression(solver="newton-cholesky", tol=1e-10, max_iter=10000,
                                   **params).fit(x, y)
    assert_rel(np.asarray(fitted["coef_"]), reference.coef_, 1e-4, "logistic coef_")
    assert_rel(np.ravel(fitted["intercept_"]), reference.intercept_, 1e-4, "logistic intercept_")

    features = tmp_path / "features.csv"
    pd.read_csv(path).drop(columns=["target"]).to_csv(features, index=False)
    out = tmp_path / "proba.csv"
    tabula("predict", "--model", model_path, "--data", features, "--out", out, "--proba")
    proba = pd.read_csv(out)
    expected = reference.predict_proba(x)
    # The labels are integers in these files; tabula names the columns by the label's text.
    ours = proba[[f"proba_{label:g}" for label in reference.classes_]].to_numpy()
    assert np.abs(ours - expected).max() < 1e-4


# ---- PCA -------------------------------------------------------------------------------------

@pytest.mark.parametrize("csv,n_components", [("breast_cancer.csv", 5), ("wine.csv", None),
                                              ("diabetes.csv", 0.9)])
def test_pca_matches_sklearn(tabula, tmp_path, csv, n_components):
    path = DATA / csv
    params = {} if n_components is None else {"n_components": n_components}
    fitted, model_path = fit(tabula, tmp_path, path, "target", "pca", **params)
    x, _ = read_xy(path, "target")
    reference = PCA(n_components=n_components, svd_solver="full").fit(x)
    ours = np.asarray(fitted["components_"])
    assert ours.shape == reference.components_.shape
    signs = np.sign(np.sum(ours * reference.components_, axis=1))
    assert_rel(ours * signs[:, None], reference.components_, 1e-5, "components_ (up to sign)")
    assert_rel(fitted["explained_variance_"], reference.explained_variance_, 1e-5,
               "explained_variance_")
    assert_rel(fitted["explained_variance_ratio_"], reference.explained_variance_ratio_, 1e-5,
               "explained_variance_ratio_")

    features = tmp_path / "features.csv"
    pd.read_csv(path).drop(columns=["target"]).to_csv(features, index=False)
    out = tmp_path / "z.csv"
    tabula("transform", "--model", model_path, "--data", features, "--out", out)
    z = pd.read_csv(out).to_numpy()
    assert_rel(z * signs[None, :], reference.transform(x), 1e-5, "transform")
