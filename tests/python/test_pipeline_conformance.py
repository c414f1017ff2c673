"""Pipelines against scikit-learn: every fit through `tabula train --test-size 0`, fitted
statistics from `tabula inspect --json`, outputs through a Ridge fitted on them (its
coefficients are unique, so they match only if the encoded matrices do) and `tabula predict` on
a held-out file. Reference: sklearn ColumnTransformer([numeric: SimpleImputer > scaler,
categorical: SimpleImputer(most_frequent) > encoder]) > Ridge on the same rows.

The real-table check ("Done when" of issue 5): data/titanic.csv (carData::TitanicSurvival:
categorical features, 263 missing ages) trained by tabula, scored on a held-out file by
`tabula predict` in small and large chunks, equals the scikit-learn pipeline's probabilities."""
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler

from conftest import DATA

NUMERIC = ["x1", "x2", "x3"]
CATEGORICAL = ["color", "size"]


def make_table(seed, n=600):
    """Numeric columns with gaps and a large offset, text columns with gaps and rare values."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "x1": rng.normal(50.0, 10.0, n).round(3),
        "x2": rng.exponential(2.0, n).round(3),
        "x3": (1e4 + rng.integers(0, 7, n)).astype(float),
        "color": rng.choice(["red", "green", "blue", "teal", "plum"], n, p=[.4, .3, .2, .07, .03]),
        "size": rng.choice(["S", "M", "L", "XL"], n),
    })
    for column, rate in [("x1", 0.1), ("x2", 0.05), ("color", 0.08), ("size", 0.02)]:
        frame.loc[rng.random(n) < rate, column] = np.nan
    frame["y"] = (frame["x1"].fillna(50) * 0.3 - frame["x2"].fillna(1) * 2
                  + frame["color"].map({"red": 1, "green": -1}).fillna(0) * 3
                  + rng.normal(0, 1, n))
    return frame


def reference(strategy, scaler, encoder):
    numeric = make_pipeline(SimpleImputer(strategy=strategy, fill_value=0.0), scaler)
    categorical = make_pipeline(SimpleImputer(strategy="most_frequent"), encoder)
    return ColumnTransformer([("numeric", numeric, NUMERIC), ("categorical", categorical,
                                                              CATEGORICAL)])


def fit(run_tabula, tmp_path, frame, *flags, model="ridge"):
    csv = tmp_path / "train.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path / "model.tabula"
    run_tabula("train", "--data", csv, "--target", "y", "--model", model, "--test-size", "0",
               "--out", out, *flags)
    return out, json.loads(run_tabula("inspect", out, "--json").stdout)


def predict(run_tabula, tmp_path, model, frame, *flags):
    csv = tmp_path / "holdout.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path / "pred.csv"
    run_tabula("predict", "--model", model, "--data", csv, "--out", out, *flags)
    return pd.read_csv(out)


def close(actual, expected, rtol, what):
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(np.abs(expected).max(), 1e-12)
    err = np.abs(actual - expected).max() / scale
    assert err <= rtol, f"{what}: relative error {err:.3g} > {rtol}\n{actual}\n{expected}"


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent", "constant"])
@pytest.mark.parametrize("scale", ["standard", "minmax"])
def test_impute_scale_onehot_match_sklearn(run_tabula, tmp_path, strategy, scale):
    frame = make_table(1)
    model, summary = fit(run_tabula, tmp_path, frame, "--impute", strategy, "--scale", scale)
    numeric, dates, categorical = summary["pipeline"]["branches"]
    assert dates["name"] == "date" and dates["columns"] == []  # no column of dates here
    assert numeric["columns"] == NUMERIC and categorical["columns"] == CATEGORICAL
    ref = reference(strategy, StandardScaler() if scale == "standard" else MinMaxScaler(),
                    OneHotEncoder(handle_unknown="ignore"))
    ref.fit(frame[NUMERIC + CATEGORICAL])
    imputer, scaler = ref.named_transformers_["numeric"].steps
    close(numeric["steps"][0]["attributes"]["statistics_"], imputer[1].statistics_, 1e-12,
          "statistics_")
    attrs = numeric["steps"][1]["attributes"]
    if scale == "standard":
        close(attrs["mean_"], scaler[1].mean_, 1e-12, "mean_")
        close(attrs["scale_"], scaler[1].scale_, 1e-9, "scale_")
    else:
        close(attrs["data_min_"], scaler[1].data_min_, 0, "data_min_")
        close(attrs["data_max_"], scaler[1].data_max_, 0, "data_max_")
    cat_imputer, encoder = ref.named_transformers_["categorical"].steps
    assert categorical["steps"][0]["attributes"]["statistics_"] == list(cat_imputer[1].statistics_)
    assert categorical["steps"][1]["attributes"]["categories_"] == [list(c) for c in
                                                                    encoder[1].categories_]
    assert summary["pipeline"]["output_names"][:3] == NUMERIC
    assert "color=blue" in summary["pipeline"]["output_names"]

    # Outputs: a Ridge on the encoded matrix has unique coefficients.
    x = ref.transform(frame[NUMERIC + CATEGORICAL])
    ridge = Ridge(alpha=1.0).fit(x, frame["y"])
    close(np.ravel(summary["fitted"]["coef_"]), ridge.coef_, 2e-5, "ridge coef_ on the pipeline")
    # A held-out file with an unseen category and columns in another order.
    holdout = make_table(2, n=200)
    holdout.loc[0:9, "color"] = "mauve"
    holdout = holdout[["size", "y", "x3", "color", "x2", "x1"]]
    ours = predict(run_tabula, tmp_path, model, holdout)["prediction"].to_numpy()
    close(ours, ridge.predict(ref.transform(holdout[NUMERIC + CATEGORICAL])), 1e-5, "predictions")


def test_infrequent_categories_match_sklearn(run_tabula, tmp_path):
    frame = make_table(3)
    model, summary = fit(run_tabula, tmp_path, frame, "--min-frequency", "40", "--max-categories",
                         "3", "--handle-unknown", "infrequent_if_exist")
    ref = reference("median", StandardScaler(), OneHotEncoder(
        handle_unknown="infrequent_if_exist", min_frequency=40, max_categories=3))
    ref.fit(frame[NUMERIC + CATEGORICAL])
    encoder = ref.named_transformers_["categorical"].steps[1][1]
    attrs = summary["pipeline"]["branches"][-1]["steps"][1]["attributes"]
    assert attrs["infrequent_categories_"] == [None if c is None else list(c)
                                               for c in encoder.infrequent_categories_]
    names = [n.replace("categorical__", "").replace("_", "=", 1).replace("=infrequent=", "=infrequent_")
             for n in ref.get_feature_names_out()[len(NUMERIC):]]
    assert summary["pipeline"]["output_names"][len(NUMERIC):] == names
    x = ref.transform(frame[NUMERIC + CATEGORICAL])
    ridge = Ridge(alpha=1.0).fit(x, frame["y"])
    close(np.ravel(summary["fitted"]["coef_"]), ridge.coef_, 2e-5, "ridge coef_")
    holdout = make_table(4, n=100)
    holdout.loc[0:4, "color"] = "mauve"  # unseen: the infrequent bucket
    ours = predict(run_tabula, tmp_path, model, holdout)["prediction"].to_numpy()
    close(ours, ridge.predict(ref.transform(holdout[NUMERIC + CATEGORICAL])), 1e-5, "predictions")


def test_ordinal_encoder_matches_sklearn(run_tabula, tmp_path):
    frame = make_table(5)
    _, summary = fit(run_tabula, tmp_path, frame, "--encode", "ordinal")
    ref = reference("median", StandardScaler(), OrdinalEncoder())
    x = ref.fit_transform(frame[NUMERIC + CATEGORICAL])
    encoder = ref.named_transformers_["categorical"].steps[1][1]
    attrs = summary["pipeline"]["branches"][-1]["steps"][1]["attributes"]
    assert attrs["categories_"] == [list(c) for c in encoder.categories_]
    close(np.ravel(summary["fitted"]["coef_"]), Ridge(alpha=1.0).fit(x, frame["y"]).coef_, 2e-5,
          "ridge coef_ on ordinal codes")


def test_spec_file_with_pca_after(run_tabula, tmp_path):
    """A TOML spec: named columns, MinMaxScaler(-1, 1), then PCA over the concatenation."""
    spec = tmp_path / "spec.toml"
    spec.write_text("""
[pipeline]
after = [ { kind = "PCA", n_components = 3 } ]
[[pipeline.branches]]
name = "nums"
columns = ["x1", "x2"]
steps = [ { kind = "SimpleImputer", strategy = "mean" },
          { kind = "MinMaxScaler", feature_range = [-1, 1] } ]
[[pipeline.branches]]
type = "categorical"
steps = [ { kind = "SimpleImputer", strategy = "constant" }, { kind = "OneHotEncoder" } ]
""")
    frame = make_table(6)
    _, summary = fit(run_tabula, tmp_path, frame, "--pipeline", spec)
    assert summary["pipeline"]["output_names"] == ["pc1", "pc2", "pc3"]
    from sklearn.decomposition import PCA
    ref = make_pipeline(ColumnTransformer([
        ("nums", make_pipeline(SimpleImputer(strategy="mean"), MinMaxScaler((-1, 1))), ["x1", "x2"]),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing_value"),
                              OneHotEncoder()), CATEGORICAL)]), PCA(n_components=3))
    x = ref.fit_transform(frame)
    pca = summary["pipeline"]["after"][0]["attributes"]
    close(pca["explained_variance_"], ref[-1].explained_variance_, 1e-5, "explained_variance_")
    ours = np.array(pca["components_"])
    signs = np.sign(np.sum(ours * ref[-1].components_, axis=1))
    close(ours * signs[:, None], ref[-1].components_, 1e-4, "components_")
    close(np.ravel(summary["fitted"]["coef_"]) * signs,
          Ridge(alpha=1.0).fit(x, frame["y"]).coef_, 1e-4, "ridge coef_ on the components")


def titanic_split():
    frame = pd.read_csv(DATA / "titanic.csv")
    holdout = frame.index % 4 == 0
    return frame[~holdout], frame[holdout]


def test_titanic_holdout_predictions_match_sklearn_pipeline(run_tabula, tmp_path):
    """Done when (issue 5): a real table with categories and gaps, trained, then a held-out
    file scored by `tabula predict` in chunks gives the in-memory pipeline's probabilities."""
    train, holdout = titanic_split()
    assert train["age"].isna().sum() > 100 and holdout["age"].isna().sum() > 30
    train_csv = tmp_path / "titanic-train.csv"
    train.to_csv(train_csv, index=False)
    model = tmp_path / "titanic.tabula"
    run_tabula("train", "--data", train_csv, "--target", "survived", "--model", "logistic",
               "--drop-columns", "name", "--test-size", "0", "--out", model)
    features = ["age", "sex", "passengerClass"]
    ref = make_pipeline(ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), ["age"]),
        ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                      OneHotEncoder(handle_unknown="ignore")),
         ["sex", "passengerClass"])]), LogisticRegression(C=1.0, tol=1e-10, max_iter=1000))
    ref.fit(train[features], train["survived"])
    expected = ref.predict_proba(holdout[features])[:, 1]
    for chunk in ("7", "100000"):
        ours = predict(run_tabula, tmp_path, model, holdout, "--proba", "--chunk-rows", chunk)
        close(ours["proba_yes"], expected, 1e-4, f"P(survived) in chunks of {chunk}")


def test_titanic_forest_predictions_do_not_depend_on_chunks(run_tabula, tmp_path):
    """Chunks renumber categories (each chunk has its own); encoding is by text, so a forest's
    predictions are the same in chunks of 5 rows as on the whole file at once."""
    train, holdout = titanic_split()
    train_csv = tmp_path / "titanic-train.csv"
    train.to_csv(train_csv, index=False)
    model = tmp_path / "forest.tabula"
    run_tabula("train", "--data", train_csv, "--target", "survived", "--model", "forest",
               "--param", "n_estimators=20", "--drop-columns", "name", "--seed", "3", "--out",
               model)
    whole = predict(run_tabula, tmp_path, model, holdout, "--proba", "--chunk-rows", "100000")
    small = predict(run_tabula, tmp_path, model, holdout, "--proba", "--chunk-rows", "5")
    assert whole.equals(small)
    assert whole["proba_yes"].nunique() > 10
