"""The pipeline section of the artifact (docs/artifact-format.md) is enough to score new data
without tabula: a NumPy reimplementation of its rules, reading only the header and the arrays,
reproduces `tabula predict --proba` on the real table (data/titanic.csv), unseen and missing
values included, and a timestamp column whose parts pandas computes."""
import pathlib
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from artifact_reader import read_artifact  # noqa: E402
from conftest import DATA  # noqa: E402


def apply_maps(block, maps):
    """maps: [width, 3] = fill, scale, shift per column."""
    fill, scale, shift = maps[:, 0], maps[:, 1], maps[:, 2]
    return np.where(np.isnan(block), fill, block * scale + shift)


def apply_ops(block, ops, prefix, arrays):
    for k, op in enumerate(ops):
        name = f"{prefix}.op{k}"
        if op["kind"] == "maps":
            block = apply_maps(block, arrays[f"{name}.maps"])
        else:
            block = ((block - arrays[f"{name}.mean"]) @ arrays[f"{name}.components"].T
                     * arrays[f"{name}.scale"])
    return block


def date_parts(values, encoder):
    """A date encoder's outputs, computed by pandas (.dt accessors) rather than by tabula's rules:
    missing stays NaN."""
    fmt = "ISO8601" if encoder["format"] == "iso8601" else encoder["format"]
    t = pd.to_datetime(pd.Series(values, dtype=object), format=fmt)
    parts = {"year": t.dt.year, "month": t.dt.month, "day": t.dt.day,
             "day_of_week": t.dt.day_of_week, "day_of_year": t.dt.day_of_year, "hour": t.dt.hour,
             "minute": t.dt.minute, "second": t.dt.second,
             "epoch": (t - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)}
    return np.column_stack([parts[p].to_numpy(dtype=np.float64, na_value=np.nan)
                            for p in encoder["parts"]])


def encode_column(values, column):
    """One raw column (object or float array) -> its outputs, before its maps."""
    encoder = column.get("encoder")
    if encoder is None:
        return np.asarray(values, dtype=np.float64)[:, None]
    if encoder["kind"] == "date":
        return date_parts(values, encoder)
    n, width = len(values), encoder["width"]
    out = np.zeros((n, width))
    index = {c: i for i, c in enumerate(encoder["categories"])}
    for r, v in enumerate(values):
        if not isinstance(v, str):
            v = column.get("fill")
        i = index.get(v) if v is not None else None
        if encoder["kind"] == "onehot":
            if i is not None:
                out[r, encoder["slot"][i]] = 1.0
            elif encoder["handle_unknown"] == "infrequent_if_exist" and encoder["infrequent_slot"] >= 0:
                out[r, encoder["infrequent_slot"]] = 1.0
            else:
                assert encoder["handle_unknown"] != "error", f"unseen {v!r}"
        else:
            out[r, 0] = encoder["slot"][i] if i is not None else (
                np.nan if v is None else encoder["unknown_value"])
    return out


def pipeline_features(header, arrays, frame):
    p = header["pipeline"]
    blocks = []
    for b, branch in enumerate(p["branches"]):
        parts = [apply_maps(encode_column(frame[c["name"]].to_numpy(), c), arrays[c["maps"]])
                 for c in branch["columns"]]
        block = np.hstack(parts) if parts else np.zeros((len(frame), 0))
        blocks.append(apply_ops(block, branch["ops"], f"pipeline.b{b}", arrays))
    x = apply_ops(np.hstack(blocks), p["after"], "pipeline.after", arrays)
    assert x.shape[1] == len(p["output_names"])
    return x.astype(np.float32).astype(np.float64)


def test_numpy_reader_reproduces_tabula_predict(run_tabula, tmp_path):
    frame = pd.read_csv(DATA / "titanic.csv")
    train, holdout = frame.iloc[::2], frame.iloc[1::2].copy()
    holdout.iloc[:5, holdout.columns.get_loc("passengerClass")] = "9th"  # unseen: infrequent
    # A timestamp column (some missing): DateFeatures' parts must be pandas' .dt parts.
    rng = np.random.default_rng(5)
    stamps = pd.Timestamp("1911-03-01") + pd.to_timedelta(rng.integers(0, 800 * 86400, len(frame)),
                                                          unit="s")
    boarded = pd.Series(stamps.strftime("%Y-%m-%dT%H:%M:%S"), index=frame.index, dtype=object)
    boarded[rng.random(len(frame)) < 0.1] = None
    train, holdout = train.assign(boarded=boarded), holdout.assign(boarded=boarded)
    train_csv, holdout_csv = tmp_path / "train.csv", tmp_path / "holdout.csv"
    train.to_csv(train_csv, index=False)
    holdout.to_csv(holdout_csv, index=False)
    model, pred = tmp_path / "m.tabula", tmp_path / "p.csv"
    run_tabula("train", "--data", train_csv, "--target", "survived", "--model", "logistic",
               "--drop-columns", "name", "--scale", "minmax", "--handle-unknown",
               "infrequent_if_exist", "--min-frequency", "150", "--out", model)
    run_tabula("predict", "--model", model, "--data", holdout_csv, "--out", pred, "--proba")
    header, arrays = read_artifact(model)
    x = pipeline_features(header, arrays, holdout)
    assert any("infrequent_sklearn" in n for n in header["pipeline"]["output_names"])
    assert "boarded.hour" in header["pipeline"]["output_names"]
    z = x @ arrays["coef_"][0] + arrays["intercept_"][0]
    ours = pd.read_csv(pred)["proba_yes"].to_numpy()
    np.testing.assert_allclose(1.0 / (1.0 + np.exp(-z)), ours, rtol=1e-6, atol=1e-9)
