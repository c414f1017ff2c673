"""numpy <-> tabula .npy interoperability.

- numpy reads what tabula writes: tests/io/npy_test.cpp asserts that tabula::io::write_npy
  produces files byte-identical to the committed fixtures in tests/data/npy/, and this test
  asserts those fixtures are exactly what the installed numpy's np.save writes (and loads).
- tabula reads what numpy writes: numpy writes arrays here (float32/float64, C and Fortran
  order, format 1.0 and 2.0) and `tabula describe --json` must report their column statistics.
"""
import importlib.util
import io
import json

import numpy as np
import pytest

from conftest import ROOT

NPY_DIR = ROOT / "tests" / "data" / "npy"


def fixture_module():
    spec = importlib.util.spec_from_file_location("make_npy_fixtures", NPY_DIR / "make_npy_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["f8_2d", "f4_1d", "f8_empty"])
def test_committed_fixtures_are_what_numpy_writes(name):
    array = fixture_module().arrays()[name]
    buffer = io.BytesIO()
    np.save(buffer, array)
    committed = (NPY_DIR / f"{name}.npy").read_bytes()
    assert buffer.getvalue() == committed
    loaded = np.load(NPY_DIR / f"{name}.npy")
    np.testing.assert_array_equal(loaded, array)


def write(path, array, version=None):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=version)


@pytest.mark.parametrize(
    "dtype,order,version",
    [("<f8", "C", (1, 0)), ("<f4", "C", (1, 0)), ("<f8", "F", (1, 0)), ("<f4", "C", (2, 0))],
)
def test_tabula_reads_numpy_files(run_tabula, tmp_path, dtype, order, version):
    rng = np.random.default_rng(12345)
    array = np.asarray(rng.normal(3.0, 2.0, size=(257, 5)), dtype=dtype, order=order)
    array[7, 2] = np.nan
    path = tmp_path / "x.npy"
    write(path, array, version)
    out = json.loads(run_tabula("describe", "--data", path, "--json").stdout)
    assert out["rows"] == 257
    assert [c["name"] for c in out["columns"]] == [f"x{j}" for j in range(5)]
    values = array.astype(np.float64)
    for j, column in enumerate(out["columns"]):
        present = values[:, j][~np.isnan(values[:, j])]
        assert column["count"] == present.size
        assert column["missing"] == 257 - present.size
        assert column["mean"] == pytest.approx(present.mean(), rel=1e-12)
        assert column["std"] == pytest.approx(present.std(ddof=1), rel=1e-12)
        assert column["min"] == present.min() and column["max"] == present.max()
        assert column["50%"] == pytest.approx(np.quantile(present, 0.5), rel=1e-12)


def test_tabula_rejects_integer_arrays(run_tabula, tmp_path):
    path = tmp_path / "i.npy"
    np.save(path, np.arange(6, dtype=np.int32).reshape(2, 3))
    result = run_tabula("describe", "--data", path, expect=1)
    assert result.stdout == ""
    assert "dtype '<i4' is not supported" in result.stderr
