"""One table, every format and dialect tabula reads: the same model comes out of each.

The table has what real exports carry: decimals, integers, missing values, a text column with a
comma in one of its values, a date column and a text target. It is written as plain CSV, as
CSV in each dialect (BOM and CRLF, `;` with decimal commas, tab, `|`, a pandas export with its
index column), compressed (gzip, xz, bzip2, zstd, under a name that does not say so), as Parquet
and Feather, and as a SQLite table. For each, `train` must fit the very model the plain CSV
gives: the same fitted attributes, the same pipeline, and byte-identical predictions on the same
input. A reader that mis-types a column, loses a row or rounds a number differently breaks it.
"""
import bz2
import gzip
import json
import lzma
import shutil
import sqlite3
import subprocess

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

MODELS = ("logistic", "forest-classifier")


def make_table(rows=360, seed=11):
    rng = np.random.default_rng(seed)
    city = rng.choice(["Paris", "Oslo", "Rome", "New York, NY"], rows)
    size = np.round(rng.normal(50, 15, rows), 3)
    size[rng.random(rows) < 0.05] = np.nan
    count = rng.integers(0, 40, rows)
    day = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, rows), unit="D")
    score = (size / 50) + (city == "Paris") - 0.02 * count + rng.normal(0, 0.5, rows)
    label = np.where(np.nan_to_num(score, nan=1.0) > 0.9, "good", "bad")
    return pd.DataFrame(
        {"city": city, "size": size, "count": count, "signup": day.strftime("%Y-%m-%d"),
         "label": label}
    )


def write_exports(df, folder):
    """{name: (path or URL, extra train flags)} for every format and dialect."""
    plain = folder / "plain.csv"
    df.to_csv(plain, index=False)
    text = plain.read_bytes()
    exports = {"csv": (plain, [])}

    crlf = folder / "bom_crlf.csv"
    crlf.write_bytes(b"\xef\xbb\xbf" + text.replace(b"\n", b"\r\n"))
    exports["bom+crlf"] = (crlf, [])
    semi = folder / "european.csv"
    df.to_csv(semi, index=False, sep=";", decimal=",")
    exports["semicolon+decimal-comma"] = (semi, ["--decimal", ","])
    for name, sep in (("tab", "\t"), ("pipe", "|")):
        path = folder / f"{name}.txt"
        df.to_csv(path, index=False, sep=sep)
        exports[name] = (path, [])
    indexed = folder / "with_index.csv"
    df.to_csv(indexed)  # pandas' default: an unnamed 0..n-1 first column
    exports["pandas-index"] = (indexed, [])

    for name, pack in (("gzip", gzip.compress), ("xz", lzma.compress), ("bzip2", bz2.compress)):
        path = folder / f"{name}.csv"  # chosen by content: the name does not say it is packed
        path.write_bytes(pack(text))
        exports[name] = (path, [])
    if shutil.which("zstd"):
        path = folder / "plain.csv.zst"
        subprocess.run(["zstd", "-q", str(plain), "-o", str(path)], check=True)
        exports["zstd"] = (path, [])

    try:
        import pyarrow as pa
        import pyarrow.feather as feather
        import pyarrow.parquet as pq
    except ImportError:
        pa = None
    if pa is not None:
        table = pa.Table.from_pandas(df, preserve_index=False)
        # Typed as the data lake has it: a date column, and the city as a dictionary.
        dates = table["signup"].cast(pa.timestamp("s")).cast(pa.date32())
        table = table.set_column(3, "signup", dates)
        table = table.set_column(0, "city", table["city"].dictionary_encode())
        pq.write_table(table, folder / "table.parquet", row_group_size=100)
        exports["parquet"] = (folder / "table.parquet", [])
        feather.write_feather(table, folder / "table.feather")
        exports["feather"] = (folder / "table.feather", [])

    db = folder / "table.db"
    with sqlite3.connect(db) as connection:
        df.to_sql("exports", connection, index=False)
    exports["sqlite"] = (f"sqlite:///{db}?query=SELECT * FROM exports ORDER BY rowid", [])
    return exports


def columnar_available(tabula_bin, folder, name="table.parquet"):
    probe = subprocess.run([tabula_bin, "describe", "--data", str(folder / name)],
                           capture_output=True, text=True)
    return "built without Apache Arrow" not in probe.stderr


def model_essence(run_tabula, model_path):
    """What must be equal: the fitted attributes, the pipeline, the schema and classes."""
    d = json.loads(run_tabula("inspect", model_path, "--json").stdout)
    return {k: d[k] for k in ("model", "schema", "fitted", "pipeline", "classes")}


@pytest.mark.parametrize("model", MODELS)
def test_every_format_and_dialect_fits_the_same_model(tmp_path, tabula_bin, run_tabula, model):
    df = make_table()
    exports = write_exports(df, tmp_path)
    if "parquet" in exports and not columnar_available(tabula_bin, tmp_path):
        del exports["parquet"], exports["feather"]
    assert len(exports) >= 11

    reference = None
    for name, (source, flags) in exports.items():
        model_path = tmp_path / f"{name}.tabula"
        trained = run_tabula("train", "--data", source, "--target", "label", "--model", model,
                             "--seed", 3, *flags, "--out", model_path)
        if name == "pandas-index":
            assert "index" in trained.stderr, trained.stderr  # dropped, and said
        predictions = tmp_path / f"{name}.predictions.csv"
        run_tabula("predict", "--model", model_path, "--data", tmp_path / "plain.csv", "--proba",
                   "--out", predictions)
        outcome = (model_essence(run_tabula, model_path), predictions.read_bytes())
        if reference is None:
            reference = outcome
            kinds = {f["name"]: f["type"] for f in outcome[0]["schema"]["features"]}
            assert kinds == {"city": "categorical", "size": "numeric", "count": "numeric",
                             "signup": "categorical"}, kinds
            branches = {b["name"]: b["columns"] for b in outcome[0]["pipeline"]["branches"]}
            assert branches.get("date") == ["signup"], branches  # dates become date features
            continue
        assert outcome[0] == reference[0], f"{name}: a different model than the plain CSV's"
        assert outcome[1] == reference[1], f"{name}: different predictions"


def test_parquet_number_types_read_as_their_csv_export(tmp_path, tabula_bin, run_tabula):
    """Plain Parquet number columns are decoded straight into the engine's columns, the rest
    through Arrow: every physical type, nulls, several row groups, and a value beyond float32
    named by its row, all as the CSV export reads them."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = 1000
    rng = np.random.default_rng(5)
    gaps = rng.random(rows) < 0.1
    table = pa.table({
        "f64": pa.array(np.round(rng.normal(0, 1e3, rows), 4), mask=gaps),
        "f32": pa.array(rng.normal(0, 1, rows).astype(np.float32)),
        "i32": pa.array(rng.integers(-5000, 5000, rows).astype(np.int32), mask=np.roll(gaps, 3)),
        "i64": pa.array(rng.integers(-2**40, 2**40, rows)),
        "u32": pa.array(rng.integers(0, 2**32 - 1, rows).astype(np.uint32)),  # through Arrow
        "i8": pa.array(rng.integers(-100, 100, rows).astype(np.int8)),
        "none": pa.array([None] * rows, type=pa.float64()),  # a row group of nulls only
        "label": pa.array(np.where(rng.random(rows) < 0.5, "a", "b")),
    })
    parquet = tmp_path / "numbers.parquet"
    pq.write_table(table, parquet, row_group_size=128)
    if not columnar_available(tabula_bin, tmp_path, parquet.name):
        pytest.skip("built without Apache Arrow")
    csv_path = tmp_path / "numbers.csv"
    table.to_pandas().to_csv(csv_path, index=False, float_format="%.17g")

    def described(path):
        columns = json.loads(run_tabula("describe", "--data", path, "--json").stdout)["columns"]
        return {c["name"]: c for c in columns}

    assert described(parquet) == described(csv_path)
    outcomes = []
    for source in (parquet, csv_path):
        model = tmp_path / f"{source.suffix}.tabula"
        run_tabula("train", "--data", source, "--target", "label", "--model", "logistic",
                   "--drop", "none", "--seed", 1, "--out", model)
        out = tmp_path / f"{source.suffix}.csv.out"
        run_tabula("predict", "--model", model, "--data", csv_path, "--proba", "--out", out)
        outcomes.append((model_essence(run_tabula, model)["fitted"], out.read_bytes()))
    assert outcomes[0] == outcomes[1]

    # A number float32 cannot hold, in the fourth row group: refused, with its row.
    values = np.ones(rows)
    values[400] = 1e300
    pq.write_table(table.set_column(0, "f64", pa.array(values)), parquet, row_group_size=128)
    failed = run_tabula("describe", "--data", parquet, expect=1)
    assert "column 'f64', row 401" in failed.stderr and "float32" in failed.stderr, failed.stderr
