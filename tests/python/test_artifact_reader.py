"""Another language reads tabula's model files: the standalone reader in artifact_reader.py
recovers the header and the weights, and they agree with what tabula itself predicts."""
import pathlib
import sys

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from artifact_reader import ArtifactError, fnv1a64, read_artifact  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
REGRESSION = ROOT / "tests" / "data" / "regression_small.csv"


@pytest.fixture()
def classifier(run_tabula, data_dir, tmp_path):
    data = data_dir / "breast_cancer.csv"
    if not data.exists():
        pytest.skip("data/breast_cancer.csv is missing")
    model = tmp_path / "bc.tbl"
    run_tabula("train", "--data", data, "--target", "target", "--model", "dummy", "--seed", 5,
               "--out", model)
    return data, model


def test_reads_classifier_weights_and_metadata(run_tabula, classifier, tmp_path):
    data, model = classifier
    header, arrays = read_artifact(model)
    assert header["model"]["kind"] == "dummy"
    assert header["model"]["task"] == "classification"
    assert header["classes"] == [0, 1]
    assert [f["name"] for f in header["schema"]["features"]] == list(
        pd.read_csv(data).drop(columns="target").columns)
    training = header["training"]
    assert training["rows"] == 569 and training["rows_train"] + training["rows_test"] == 569
    assert set(training["metrics"]["model"]) >= {"accuracy", "roc_auc", "log_loss"}
    prior = arrays["class_prior_"]
    assert prior.dtype == np.float64 and prior.shape == (2,)
    # The stratified training part keeps the class proportions of the file (212 / 357).
    counts = np.round(prior * training["rows_train"])
    np.testing.assert_allclose(prior, counts / training["rows_train"], rtol=0, atol=1e-15)
    assert abs(prior[1] - 357 / 569) < 2 / training["rows_train"]
    out = tmp_path / "proba.csv"
    run_tabula("predict", "--model", model, "--data", data, "--out", out, "--proba")
    assert out.read_text().splitlines()[0] == "proba_0,proba_1"
    proba = np.loadtxt(out, delimiter=",", skiprows=1)  # Python's exact float parsing
    np.testing.assert_array_equal(proba, np.tile(prior, (569, 1)))


def test_reads_regressor_constant(run_tabula, tmp_path):
    model = tmp_path / "reg.tbl"
    run_tabula("train", "--data", REGRESSION, "--target", "y", "--model", "dummy",
               "--param", "strategy=quantile", "--param", "quantile=0.3", "--out", model)
    header, arrays = read_artifact(model)
    assert header["fitted"]["params"] == {"strategy": "quantile", "quantile": 0.3}
    out = tmp_path / "pred.csv"
    run_tabula("predict", "--model", model, "--data", REGRESSION, "--out", out)
    pred = np.loadtxt(out, delimiter=",", skiprows=1)
    assert np.all(pred == arrays["constant_"][0])
    y = pd.read_csv(REGRESSION)["y"].to_numpy()
    assert np.quantile(y, 0.1) < arrays["constant_"][0] < np.quantile(y, 0.5)


def test_reader_refuses_damaged_files(run_tabula, tmp_path):
    model = tmp_path / "reg.tbl"
    run_tabula("train", "--data", REGRESSION, "--target", "y", "--model", "dummy", "--out", model)
    raw = bytearray(model.read_bytes())
    raw[-10] ^= 0xFF
    bad = tmp_path / "bad.tbl"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ArtifactError, match="checksum"):
        read_artifact(bad)
    bad.write_bytes(model.read_bytes()[:-30])
    with pytest.raises(ArtifactError, match="truncated"):
        read_artifact(bad)
    # tabula refuses both as well, saying which.
    result = run_tabula("inspect", bad, expect=1)
    assert "truncated" in result.stderr


def test_checksum_is_zlib_crc32_and_version_1_files_still_load(run_tabula, tmp_path):
    """Format version 2 carries CRC-32 as zlib computes it; a version 1 file (FNV-1a 64) is
    still read, by this reader and by tabula."""
    import struct
    import zlib
    model = tmp_path / "reg.tbl"
    run_tabula("train", "--data", REGRESSION, "--target", "y", "--model", "dummy", "--out", model)
    raw = model.read_bytes()
    version, = struct.unpack_from("<I", raw, 8)
    assert version == 2
    assert struct.unpack_from("<Q", raw, len(raw) - 8)[0] == zlib.crc32(raw[:-8])
    v1 = bytearray(raw)
    struct.pack_into("<I", v1, 8, 1)
    struct.pack_into("<Q", v1, len(v1) - 8, fnv1a64(bytes(v1[:-8])))
    old = tmp_path / "v1.tbl"
    old.write_bytes(bytes(v1))
    header, arrays = read_artifact(old)
    assert arrays["constant_"][0] == read_artifact(model)[1]["constant_"][0]
    out = tmp_path / "pred.csv"
    run_tabula("predict", "--model", old, "--data", REGRESSION, "--out", out)
    assert len(out.read_text().splitlines()) > 1
    # A version 1 file with a CRC-32 (or a version 2 file with FNV-1a) is corrupted.
    struct.pack_into("<Q", v1, len(v1) - 8, zlib.crc32(bytes(v1[:-8])))
    old.write_bytes(bytes(v1))
    with pytest.raises(ArtifactError, match="checksum"):
        read_artifact(old)
    assert "checksum mismatch" in run_tabula("inspect", old, expect=1).stderr


def test_linear_weights_reproduce_tabula_predictions(run_tabula, tmp_path):
    """With coef_ and intercept_ read by the standalone reader, NumPy reproduces tabula's
    predictions, and the weights are those the fixture was generated with."""
    model = tmp_path / "linear.tbl"
    # --scale none: the weights then apply to the raw columns (docs/pipelines.md).
    result = run_tabula("train", "--data", REGRESSION, "--target", "y", "--model", "linear",
                        "--scale", "none", "--out", model, expect=None)
    if result.returncode != 0 and "unknown model 'linear'" in result.stderr:
        pytest.skip("the linear model is not registered in this build")
    assert result.returncode == 0, result.stderr
    header, arrays = read_artifact(model)
    coef, intercept = arrays["coef_"], arrays["intercept_"]
    assert coef.shape == (1, 3) and intercept.shape == (1,)
    frame = pd.read_csv(REGRESSION)
    x = frame[["x1", "x2", "x3"]].to_numpy(dtype=np.float32).astype(np.float64)
    out = tmp_path / "pred.csv"
    run_tabula("predict", "--model", model, "--data", REGRESSION, "--out", out)
    pred = np.loadtxt(out, delimiter=",", skiprows=1)
    np.testing.assert_allclose(x @ coef[0] + intercept[0], pred, rtol=1e-6, atol=1e-6)
    # The fixture is y = 1.5 x1 - 2 x2 + 0.5 x3 + 10 + noise(0.3).
    np.testing.assert_allclose(coef[0], [1.5, -2.0, 0.5], atol=0.1)
    assert abs(intercept[0] - 10.0) < 0.1
    assert header["training"]["metrics"]["model"]["r2"] > 0.95
    assert header["training"]["metrics"]["baseline"]["r2"] < 0.05
