"""Data-parallel training over MPI ranks (docs/distributed.md): the model rank 0 writes equals the
single-process fit on the whole file for 1 to 4 ranks, and a failing rank ends the job on every
rank with its reason and no model file. Skipped, with the reason, where mpirun is missing or the
binary was built without MPI. A tuning search spread over ranks gives the one-process board and
resumes after a rank is killed."""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest

from artifact_reader import read_artifact
from test_tune import board_without_times

ROOT_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
# Loopback only, as CI runs it: no network interfaces are probed beyond the machine.
MPIRUN_FLAGS = ["--oversubscribe", "--mca", "btl", "self,vader", "--bind-to", "none"]
TIMEOUT_S = 60


def mpirun(ranks, *args, timeout=TIMEOUT_S, env=None):
    env = {**os.environ, **ROOT_ENV, **(env or {})}
    command = ["mpirun", *MPIRUN_FLAGS, "-np", str(ranks), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def mpi_tabula(tabula_bin, tmp_path_factory):
    if shutil.which("mpirun") is None:
        pytest.skip("mpirun not found (Debian: openmpi-bin); distributed tests not run")
    probe = tmp_path_factory.mktemp("probe") / "p.csv"
    probe.write_text("x,y\n1,2\n2,3\n3,5\n")
    result = mpirun(1, tabula_bin, "train", "--distributed", "--data", probe, "--target", "y",
                    "--model", "linear", "--test-size", "0", "--impute", "none", "--scale", "none",
                    "--out", probe.with_suffix(".tbl"))
    if "built without MPI" in result.stderr:
        pytest.skip("this tabula was built without MPI (TABULA_MPI=OFF or no MPI found)")
    assert result.returncode == 0, result.stderr
    return tabula_bin


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """1,500 rows: five numeric features, a continuous target, a binary and a 3-class label."""
    return write_table(tmp_path_factory.mktemp("distributed") / "table.csv", 1500)


@pytest.fixture(scope="module")
def big_table(tmp_path_factory):
    """70,001 rows, more than a bootstrap block (65,536): the ranks' shares cut blocks."""
    return write_table(tmp_path_factory.mktemp("distributed") / "big.csv", 70001)


def write_table(path, n):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(n, 5)) * [1.0, 10.0, 0.1, 3.0, 1.0] + [0.0, 100.0, -2.0, 0.0, 5.0]
    y = x @ [1.5, -0.2, 3.0, 0.7, 0.0] + rng.normal(scale=0.5, size=n)
    score = x[:, 0] - 0.1 * (x[:, 1] - 100) + rng.normal(size=n)
    binary = (score > 0).astype(int)
    three = np.digitize(score, [-1.0, 1.0])
    with open(path, "w") as f:
        f.write("a,b,c,d,e,y,binary,three\n")
        for i in range(n):
            cells = [f"{v:.6g}" for v in x[i]] + [f"{y[i]:.6g}", str(binary[i]), str(three[i])]
            f.write(",".join(cells) + "\n")
    return path


def fit_args(data, model, target, drop, out, pipeline=("--impute", "none", "--scale", "none")):
    """A fit on every row; `pipeline`: the flags that change the model's default pipeline."""
    args = ["train", "--data", data, "--model", model, "--test-size", "0", *pipeline, "--out",
            out]
    if target:
        args += ["--target", target]
    for column in drop:
        args += ["--drop", column]
    return args


def model_arrays(path):
    """The fitted state: the estimator's and the pipeline's arrays (the drift profile apart:
    profile_arrays)."""
    _, arrays = read_artifact(path)
    return {k: v for k, v in arrays.items() if v.dtype.kind == "f" and not k.startswith("profile.")}


def fingerprint(path):
    header, _ = read_artifact(path)
    return header["training"]["data_fingerprint"]


def assert_same_fit(got, expected, context):
    """Every array within 1e-10, relative to the value's magnitude (floor 1)."""
    assert got.keys() == expected.keys(), context
    for name, values in expected.items():
        assert np.allclose(got[name], values, rtol=1e-10, atol=1e-10, equal_nan=True), (context, name)


CASES = [
    ("linear", "y", ["binary", "three"]),
    ("ridge", "y", ["binary", "three"]),
    ("logistic", "binary", ["y", "three"]),
    ("logistic", "three", ["y", "binary"]),
    ("pca", "", ["y", "binary", "three"]),
]


@pytest.mark.parametrize("model,target,drop", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_distributed_fit_equals_single_process_fit(mpi_tabula, run_tabula, table, tmp_path,
                                                   model, target, drop):
    single = tmp_path / "single.tbl"
    run_tabula(*fit_args(table, model, target, drop, single))
    expected = model_arrays(single)
    assert expected
    for ranks in (1, 2, 3, 4):
        out = tmp_path / f"ranks{ranks}.tbl"
        result = mpirun(ranks, mpi_tabula, *fit_args(table, model, target, drop, out),
                        "--distributed")
        assert result.returncode == 0, result.stderr
        assert f"fitted over {ranks} rank(s)" in result.stderr
        assert_same_fit(model_arrays(out), expected, f"{ranks} ranks")
        # The ranks hash their shares of the file, and record the one-process fingerprint.
        assert fingerprint(out) == fingerprint(single), ranks


def test_a_folder_of_shard_files_fits_the_concatenated_table(mpi_tabula, run_tabula, table,
                                                             tmp_path):
    lines = table.read_text().splitlines()
    folder = tmp_path / "shards"
    folder.mkdir()
    cuts = [1, 200, 201, 700, 1100, len(lines)]  # one shard of a single row
    for i in range(len(cuts) - 1):
        (folder / f"part-{i}.csv").write_text("\n".join([lines[0], *lines[cuts[i]:cuts[i + 1]]]) + "\n")
    single = tmp_path / "single.tbl"
    run_tabula(*fit_args(table, "logistic", "three", ["y", "binary"], single))
    expected = model_arrays(single)
    for ranks in (2, 5):
        out = tmp_path / f"shards{ranks}.tbl"
        result = mpirun(ranks, mpi_tabula, *fit_args(folder, "logistic", "three", ["y", "binary"],
                                                     out), "--distributed")
        assert result.returncode == 0, result.stderr
        assert_same_fit(model_arrays(out), expected, f"{ranks} ranks over shard files")
    result = mpirun(6, mpi_tabula, *fit_args(folder, "ridge", "y", ["binary", "three"],
                                             tmp_path / "x.tbl"), "--distributed")
    assert result.returncode != 0
    assert "5 shard file(s) for 6 ranks" in result.stderr


def columnar_copy(table, path, piece_rows):
    """The table as a Parquet (row groups of `piece_rows` rows) or Arrow IPC file (record
    batches of that size), by the path's suffix."""
    csv = pytest.importorskip("pyarrow.csv")
    data = csv.read_csv(table)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq
        pq.write_table(data, path, row_group_size=piece_rows)
    else:
        import pyarrow.feather as feather
        feather.write_feather(data, path, chunksize=piece_rows, compression="uncompressed")
    return path


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_a_columnar_file_is_shared_by_its_row_groups(mpi_tabula, run_tabula, table, tmp_path,
                                                     suffix):
    # 1,500 rows in pieces of 170: nine pieces, the last short, cut at different places for
    # each rank count; the forest must still be the one-process forest bit for bit.
    data = columnar_copy(table, tmp_path / f"table{suffix}", 170)
    cases = [("ridge", "y", ["binary", "three"], assert_same_fit, model_arrays),
             ("forest", "three", ["y", "binary"], None, forest_arrays)]
    for model, target, drop, compare, arrays in cases:
        extra = ["--param", "n_estimators=6"] if model == "forest" else []
        single = tmp_path / f"{model}.tbl"
        run_tabula(*fit_args(data, model, target, drop, single), *extra)
        expected = arrays(single)
        for ranks in (1, 2, 3, 4):
            out = tmp_path / f"{model}{ranks}.tbl"
            result = mpirun(ranks, mpi_tabula, *fit_args(data, model, target, drop, out), *extra,
                            "--distributed")
            assert result.returncode == 0, result.stderr
            got = arrays(out)
            if compare:
                compare(got, expected, f"{ranks} ranks")
                continue
            assert got.keys() == expected.keys()
            for name, values in expected.items():
                assert np.array_equal(got[name], values, equal_nan=True), (ranks, name)


def test_a_pandas_index_column_is_dropped_over_every_rank(mpi_tabula, run_tabula, table, tmp_path):
    # df.to_csv() writes the row index first; read back and written again it is 'Unnamed: 0'.
    # A share's rows do not start at row 0: the ranks decide together, as one process does.
    lines = table.read_text().splitlines()
    data = tmp_path / "indexed.csv"
    data.write_text("\n".join(["Unnamed: 0," + lines[0]] +
                              [f"{i},{line}" for i, line in enumerate(lines[1:])]) + "\n")
    single = tmp_path / "single.tbl"
    run_tabula(*fit_args(data, "ridge", "y", ["binary", "three"], single))
    expected = model_arrays(single)
    for ranks in (2, 3):
        out = tmp_path / f"ranks{ranks}.tbl"
        result = mpirun(ranks, mpi_tabula, *fit_args(data, "ridge", "y", ["binary", "three"], out),
                        "--distributed")
        assert result.returncode == 0, result.stderr
        assert "'Unnamed: 0' is a row index as pandas writes it" in result.stderr
        assert_same_fit(model_arrays(out), expected, f"{ranks} ranks")
    # Row numbers that restart are no index over all the rows: a feature on every rank alike.
    restarted = tmp_path / "restarted.csv"
    restarted.write_text("\n".join(["Unnamed: 0," + lines[0]] +
                                   [f"{i % 700},{line}" for i, line in enumerate(lines[1:])]) + "\n")
    single = tmp_path / "single2.tbl"
    run_tabula(*fit_args(restarted, "ridge", "y", ["binary", "three"], single))
    out = tmp_path / "restarted2.tbl"
    result = mpirun(2, mpi_tabula, *fit_args(restarted, "ridge", "y", ["binary", "three"], out),
                    "--distributed")
    assert result.returncode == 0, result.stderr
    assert_same_fit(model_arrays(out), model_arrays(single), "restarted index")


def test_a_columnar_file_with_fewer_row_groups_than_ranks_is_refused(mpi_tabula, table, tmp_path):
    data = columnar_copy(table, tmp_path / "two.parquet", 1000)
    out = tmp_path / "m.tbl"
    result = mpirun(3, mpi_tabula, *fit_args(data, "ridge", "y", ["binary", "three"], out),
                    "--distributed")
    assert result.returncode != 0
    assert "2 row group(s) for 3 ranks" in result.stderr, result.stderr
    assert not out.exists()


def test_a_bad_cell_in_a_later_row_group_is_named_by_its_file_row(mpi_tabula, table, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    data = pytest.importorskip("pyarrow.csv").read_csv(table)
    # Row 1,201 of column a beyond float32: in rank 1's row groups when 2 ranks share 6 groups.
    a = data.column("a").to_pylist()
    a[1200] = 1e300
    data = data.set_column(0, "a", pa.array(a))
    path = tmp_path / "bad.parquet"
    pq.write_table(data, path, row_group_size=250)
    result = mpirun(2, mpi_tabula, *fit_args(path, "ridge", "y", ["binary", "three"],
                                             tmp_path / "m.tbl"), "--distributed")
    assert result.returncode != 0
    assert "rank 1 of 2" in result.stderr and "row 1201" in result.stderr, result.stderr


def forest_arrays(path):
    """Every array of the fitted state (trees, node counts, importances), any dtype."""
    _, arrays = read_artifact(path)
    return {k: v for k, v in arrays.items() if not k.startswith("profile.")}


def with_missing_cells(lines):
    """Column a empty (missing) in every fifth row, column d in every seventh."""
    for i in range(1, len(lines)):
        cells = lines[i].split(",")
        if i % 5 == 0:
            cells[0] = ""
        if i % 7 == 0:
            cells[3] = ""
        lines[i] = ",".join(cells)


FOREST_CASES = [
    ("forest", "binary", ["y", "three"], []),
    ("forest", "three", ["y", "binary"], ["class_weight=balanced_subsample", "max_features=2"]),
    ("forest", "y", ["binary", "three"], ["max_samples=0.7", "min_samples_leaf=3"]),
    ("forest", "y", ["binary", "three"], ["max_leaf_nodes=40", "bootstrap=false"]),
    ("forest", "three", ["y", "binary"], ["class_weight=balanced", "max_depth=6", "missing"]),
    ("forest", "binary", ["y", "three"], ["max_samples=0.8", "max_depth=8", "big"]),
]

# Each rank count runs with the default reduction (small levels all-reduced) and with every
# level reduce-scattered over (node, feature) units (docs/distributed.md, "Splits").
SCATTER_EVERY_LEVEL = {"TABULA_FOREST_SCATTER_MIN_BYTES": "0"}


@pytest.mark.parametrize("model,target,drop,params", FOREST_CASES,
                         ids=[f"{c[1]}-{'-'.join(c[3]) or 'defaults'}" for c in FOREST_CASES])
def test_distributed_forest_is_the_single_process_forest_bit_for_bit(
        mpi_tabula, run_tabula, table, big_table, tmp_path, model, target, drop, params):
    data = big_table if "big" in params else table
    if "missing" in params:
        data = edited_copy(table, tmp_path / "missing.csv", with_missing_cells)
    extra = ["--param", "n_estimators=12"]
    for param in params:
        if "=" in param:
            extra += ["--param", param]
    single = tmp_path / "single.tbl"
    run_tabula(*fit_args(data, model, target, drop, single), *extra)
    expected = forest_arrays(single)
    assert "forest.feature" in expected
    for ranks, env in [(1, None), (2, None), (3, None), (4, None), (2, SCATTER_EVERY_LEVEL),
                       (3, SCATTER_EVERY_LEVEL), (4, SCATTER_EVERY_LEVEL)]:
        out = tmp_path / f"ranks{ranks}.tbl"
        result = mpirun(ranks, mpi_tabula, *fit_args(data, model, target, drop, out), *extra,
                        "--distributed", env=env)
        assert result.returncode == 0, result.stderr
        got = forest_arrays(out)
        assert got.keys() == expected.keys(), (ranks, env)
        for name, values in expected.items():
            assert got[name].dtype == values.dtype and np.array_equal(
                got[name], values, equal_nan=True), (ranks, env, name)


# ---- the pipeline fitted over ranks: imputers, scalers, encoders, dates ----

def with_text_and_gaps(lines):
    """Missing numbers in several columns (a and d as with_missing_cells leaves them; c has none
    in the first 400 rows: the first rank of up to 3 sees no value of it), text columns whose
    categories only some ranks see ("violet" only in rows 800-815; "amber", first by bytes,
    first seen at row 760), an ISO date column."""
    with_missing_cells(lines)
    lines[0] += ",color,size,when"
    for i in range(1, len(lines)):
        cells = lines[i].split(",")
        if i < 400 or i % 9 == 0:
            cells[2] = ""
        color = ("red", "green", "blue")[i % 3]
        if 800 <= i < 816:
            color = "violet"
        if i >= 760 and i % 4 == 0:
            color = "amber"
        if i % 11 == 0:
            color = ""
        size = f"S{(i * i) % 23 % (1 + i % 9)}"
        # One year: the epoch seconds are then not nearly year and day_of_year combined (a
        # near-collinear fit would amplify rounding, on one process too).
        when = "" if i % 13 == 0 else f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"
        lines[i] = ",".join(cells + [color, size, when])


def assert_same_json(got, expected, exact, where="pipeline"):
    """The fitted pipeline's description: equal, numbers within 1e-10 unless `exact`."""
    assert type(got) is type(expected) or {type(got), type(expected)} <= {int, float}, where
    if isinstance(expected, dict):
        assert got.keys() == expected.keys(), where
        for key in expected:
            assert_same_json(got[key], expected[key], exact, f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same_json(g, e, exact, f"{where}[{i}]")
    elif isinstance(expected, float) and not exact:
        assert np.isclose(got, expected, rtol=1e-10, atol=1e-10), (where, got, expected)
    else:
        assert got == expected, (where, got, expected)


def profile_arrays(path):
    """The drift profile: its header part and its arrays."""
    header, arrays = read_artifact(path)
    return header["profile"], {k: v for k, v in arrays.items() if k.startswith("profile.")}


def assert_same_profile(got_path, expected_path, exact):
    got_header, got = profile_arrays(got_path)
    expected_header, expected = profile_arrays(expected_path)
    assert_same_json(got_header, expected_header, exact, "profile")
    assert got.keys() == expected.keys() and expected
    for name, values in expected.items():
        if exact:
            assert np.array_equal(got[name], values, equal_nan=True), name
        else:
            assert np.allclose(got[name], values, rtol=1e-10, atol=1e-10, equal_nan=True), name


def predictions(run_tabula, model, data, out):
    run_tabula("predict", "--model", model, "--data", data, "--out", out)
    return out.read_text().splitlines()


PIPELINE_CASES = [
    # model, target, dropped, flags, whether every fitted statistic is exact
    ("ridge", "y", ["binary", "three"], [], False),
    # One-hot columns sum to the intercept's column: an unpenalised fit is rank-deficient and
    # its coefficients are fixed by rounding, on one process too. Ordinal codes keep it posed.
    # (Nor is the constant year column an unpenalised fit can take: the dates are dropped.)
    ("linear", "y", ["binary", "three", "when"], ["--impute", "mean", "--scale", "minmax",
                                                  "--encode", "ordinal"], False),
    ("ridge", "y", ["binary", "three"], ["--impute", "mean", "--scale", "minmax"], False),
    ("logistic", "three", ["y", "binary"], ["--impute", "most_frequent", "--scale", "minmax",
                                            "--encode", "ordinal"], True),
    ("logistic", "binary", ["y", "three"], ["--min-frequency", "40", "--max-categories", "4",
                                            "--handle-unknown", "infrequent_if_exist"], False),
    # The leading components only: the last ones span the one-hot columns' null space, which
    # any rounding turns.
    ("pca", "", ["y", "binary", "three"], ["--impute", "constant", "--scale", "standard",
                                           "--param", "n_components=4"], False),
    # Unscaled, the dates' epoch seconds (~1.6e9) make the fit ill-conditioned: dropped.
    ("ridge", "y", ["binary", "three", "when"], ["--impute", "median", "--scale", "none"], True),
]


@pytest.mark.parametrize("model,target,drop,flags,exact", PIPELINE_CASES,
                         ids=[f"{c[0]}-{'-'.join(c[3][1::2]) or 'defaults'}"
                              for c in PIPELINE_CASES])
def test_distributed_pipeline_equals_single_process_pipeline(mpi_tabula, run_tabula, table,
                                                             tmp_path, model, target, drop,
                                                             flags, exact):
    data = edited_copy(table, tmp_path / "text.csv", with_text_and_gaps)
    single = tmp_path / "single.tbl"
    run_tabula(*fit_args(data, model, target, drop, single, flags))
    header, _ = read_artifact(single)
    expected = model_arrays(single)
    expected_predictions = (None if model == "pca" else
                            predictions(run_tabula, single, data, tmp_path / "single.csv"))
    for ranks in (1, 2, 3, 4):
        out = tmp_path / f"ranks{ranks}.tbl"
        result = mpirun(ranks, mpi_tabula, *fit_args(data, model, target, drop, out, flags),
                        "--distributed")
        assert result.returncode == 0, result.stderr
        got_header, _ = read_artifact(out)
        assert_same_json(got_header["pipeline"], header["pipeline"], exact)
        assert got_header["schema"] == header["schema"], ranks
        assert_same_fit(model_arrays(out), expected, f"{ranks} ranks")
        # The profile's inputs are exact; its prediction part is as exact as the model.
        assert_same_profile(out, single, exact=model == "logistic")
        if model == "pca":  # a transform: its arrays are its outputs' whole description
            continue
        got_predictions = predictions(run_tabula, out, data, tmp_path / f"ranks{ranks}.csv")
        if model in ("logistic",):  # class labels: the same rows, the same classes
            assert got_predictions == expected_predictions, ranks
        else:
            got_values = np.loadtxt(got_predictions[1:], delimiter=",", ndmin=2)
            expected_values = np.loadtxt(expected_predictions[1:], delimiter=",", ndmin=2)
            assert np.allclose(got_values, expected_values, rtol=1e-6, atol=1e-6), ranks


@pytest.mark.parametrize("encode", ["onehot", "ordinal"])
def test_distributed_forest_with_text_columns_is_bit_for_bit(mpi_tabula, run_tabula, table,
                                                             tmp_path, encode):
    data = edited_copy(table, tmp_path / "text.csv", with_text_and_gaps)
    args = lambda out: [*fit_args(data, "forest", "three", ["y", "binary"], out,
                                       ["--encode", encode, "--param", "n_estimators=8"])]
    single = tmp_path / "single.tbl"
    run_tabula(*args(single))
    header, _ = read_artifact(single)
    expected = forest_arrays(single)
    for ranks in (1, 2, 3, 4):
        out = tmp_path / f"ranks{ranks}.tbl"
        result = mpirun(ranks, mpi_tabula, *args(out), "--distributed")
        assert result.returncode == 0, result.stderr
        got_header, _ = read_artifact(out)
        assert_same_json(got_header["pipeline"], header["pipeline"], True)
        got = forest_arrays(out)
        assert got.keys() == expected.keys(), ranks
        for name, values in expected.items():
            assert np.array_equal(got[name], values, equal_nan=True), (ranks, name)
        assert_same_profile(out, single, exact=True)


def test_a_distributed_model_is_monitored_as_the_single_process_one(mpi_tabula, run_tabula,
                                                                    table, tmp_path):
    data = edited_copy(table, tmp_path / "text.csv", with_text_and_gaps)
    args = lambda out: fit_args(data, "forest", "three", ["y", "binary"], out,
                                ["--param", "n_estimators=8"])
    run_tabula(*args(tmp_path / "single.tbl"))
    result = mpirun(3, mpi_tabula, *args(tmp_path / "ranks3.tbl"), "--distributed")
    assert result.returncode == 0, result.stderr
    reports = []
    for name in ("single", "ranks3"):
        out = tmp_path / f"{name}.json"
        run_tabula("monitor", "--model", tmp_path / f"{name}.tbl", "--data", data, "--json", out)
        reports.append(json.loads(out.read_text()))
    for report in reports:
        report.pop("model_file")
    assert reports[0] == reports[1]


def test_identifier_columns_are_dropped_as_one_process_drops_them(mpi_tabula, run_tabula,
                                                                  table, tmp_path):
    # 'code' has 300 distinct values over 1,500 rows (kept by one process), but more distinct
    # values than half the rows of a 4-rank share; 'ident' is distinct on every row (dropped).
    def edit(lines):
        lines[0] += ",code,ident"
        for i in range(1, len(lines)):
            lines[i] += f",k{i % 300},id{i}"

    data = edited_copy(table, tmp_path / "ids.csv", edit)
    single = tmp_path / "single.tbl"
    run_tabula(*fit_args(data, "ridge", "y", ["binary", "three"], single, []))
    header, _ = read_artifact(single)
    features = [f["name"] for f in header["schema"]["features"]]
    assert "code" in features and "ident" not in features
    out = tmp_path / "ranks4.tbl"
    result = mpirun(4, mpi_tabula, *fit_args(data, "ridge", "y", ["binary", "three"], out,
                                                  []), "--distributed")
    assert result.returncode == 0, result.stderr
    got_header, _ = read_artifact(out)
    assert got_header["schema"] == header["schema"]
    assert_same_fit(model_arrays(out), model_arrays(single), "4 ranks")


def edited_copy(table, path, edit):
    """A copy of the table at `path` after `edit` changed its list of lines in place."""
    lines = table.read_text().splitlines()
    edit(lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def failed_linear_fit(ranks, tabula, data, *extra):
    """Runs a linear fit over `ranks` that must fail on every rank without writing a model file;
    returns its stderr."""
    out = data.with_name("model.tbl")
    result = mpirun(ranks, tabula, *fit_args(data, "linear", "y", ["binary", "three"], out),
                    "--distributed", *extra, timeout=30)
    assert result.returncode != 0
    assert not list(data.parent.glob("model.tbl*"))
    return result.stderr


def test_rank_that_cannot_read_its_share_ends_the_job(mpi_tabula, table, tmp_path):
    # The last line's value breaks only the last rank's share (a column forced numeric).
    def edit(lines):
        lines[-1] = "oops," + lines[-1].split(",", 1)[1]

    stderr = failed_linear_fit(3, mpi_tabula, edited_copy(table, tmp_path / "bad.csv", edit),
                               "--numeric", "a")
    assert "reading the data shares: rank 2 of 3:" in stderr
    assert "'oops' is not a number" in stderr


def test_rank_failing_alone_aborts_every_rank(mpi_tabula, table, tmp_path):
    # A missing feature value in rank 1's rows only: its fit fails while rank 0 waits in a
    # collective, so the failing rank ends the job (MPI_Abort).
    def edit(lines):
        middle = len(lines) * 3 // 4
        lines[middle] = "," + lines[middle].split(",", 1)[1]

    stderr = failed_linear_fit(2, mpi_tabula, edited_copy(table, tmp_path / "missing.csv", edit))
    assert "MPI rank 1 of 2: model 'linear': feature column 1 has a missing" in stderr


def test_shards_with_different_column_types_are_refused(mpi_tabula, table, tmp_path):
    def edit(lines):
        for i in range(len(lines) // 2, len(lines)):
            lines[i] = "text" + lines[i][lines[i].index(","):]

    stderr = failed_linear_fit(2, mpi_tabula, edited_copy(table, tmp_path / "mixed.csv", edit))
    assert ("the shards' columns differ: rank 1 of 2: has 'a: text' where rank 0 has "
            "'a: numeric'") in stderr


def test_models_without_a_distributed_fit_are_refused_before_reading(mpi_tabula, table,
                                                                      tmp_path):
    # Refused from the registry alone: the data file need not even exist.
    missing = tmp_path / "no-such.csv"
    result = mpirun(2, mpi_tabula, *fit_args(missing, "gbdt", "y", ["binary", "three"],
                                             tmp_path / "f.tbl"), "--distributed")
    assert result.returncode != 0
    assert "model 'gbdt' has no data-parallel fit yet" in result.stderr
    assert "no-such.csv" not in result.stderr
    result = mpirun(2, mpi_tabula, "train", "--data", missing, "--target", "y", "--model",
                    "ridge", "--test-size", "0.2", "--out", tmp_path / "f.tbl", "--distributed")
    assert result.returncode != 0
    assert "pass --test-size 0" in result.stderr


def test_several_copies_without_distributed_are_refused(mpi_tabula, table, tmp_path):
    out = tmp_path / "m.tbl"
    result = mpirun(2, mpi_tabula, *fit_args(table, "linear", "y", ["binary", "three"], out))
    assert result.returncode != 0
    assert "started as one of 2 processes" in result.stderr
    assert not out.exists()


# ---- tune over ranks: trials spread, results gathered on rank 0, the journal written once ----

def rank_pid(launcher_pid, rank):
    """The pid of `rank` among the processes mpirun `launcher_pid` started (by their
    OMPI_COMM_WORLD_RANK), or None while they are not up."""
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if parent == launcher_pid and f"OMPI_COMM_WORLD_RANK={rank}".encode() in environ:
            return int(entry.name)
    return None


def test_tune_over_ranks_equals_one_process_and_resumes_after_a_rank_is_killed(
        mpi_tabula, run_tabula, table, tmp_path):
    args = ["tune", "--data", str(table), "--target", "three", "--drop", "y", "--drop", "binary",
            "--model", "forest", "--param", "max_depth=[2,3,4,5,6,7,8,9,10,11,12,13]",
            "--fixed", "n_estimators=20", "--folds", "3", "--seed", "4", "--no-progress"]
    run_tabula(*args, "--out", tmp_path / "single")
    expected = board_without_times(tmp_path / "single" / "leaderboard.csv")
    assert len(expected) == 12

    result = mpirun(2, mpi_tabula, *args, "--out", tmp_path / "spread", "--distributed")
    assert result.returncode == 0, result.stderr
    assert board_without_times(tmp_path / "spread" / "leaderboard.csv") == expected

    out = tmp_path / "killed"
    journal = out / "journal.jsonl"
    command = ["mpirun", *MPIRUN_FLAGS, "-np", "2", mpi_tabula, *args, "--out", str(out),
               "--distributed"]
    launcher = subprocess.Popen(command, env={**os.environ, **ROOT_ENV},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and launcher.poll() is None:
        if journal.exists() and journal.read_text().count("\n") >= 1:
            break
        time.sleep(0.01)
    victim = rank_pid(launcher.pid, 1)
    assert launcher.poll() is None and victim, "the search finished before a rank could be killed"
    os.kill(victim, signal.SIGKILL)
    killed_at = time.time()
    _, stderr = launcher.communicate(timeout=30)
    assert launcher.returncode != 0
    assert time.time() - killed_at < 10, "the other rank outlived the killed one"
    lines = journal.read_text().count("\n")
    assert 1 <= lines < 12
    assert not (out / "leaderboard.csv").exists()

    result = mpirun(2, mpi_tabula, *args, "--out", out, "--distributed")
    assert result.returncode == 0, result.stderr
    assert f"{lines} resumed from the journal" in result.stdout
    assert board_without_times(out / "leaderboard.csv") == expected
