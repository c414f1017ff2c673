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


def oob_score(path):
    header, _ = read_artifact(path)
    return header["forest"]["oob_score"]


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
    ("forest", "three", ["y", "binary"], ["oob_score=true"]),
    ("forest", "y", ["binary", "three"], ["oob_score=true", "max_samples=0.6"]),
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
        # The out-of-bag score (each rank scores its own rows; counts and exact sums reduced).
        assert oob_score(out) == oob_score(single), (ranks, env)
    if "oob_score=true" in params:
        assert 0.0 < oob_score(single) <= 1.0


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


def fitted_state(path):
    """Every array of the fitted state (any dtype) and the estimator's header values."""
    header, arrays = read_artifact(path)
    return ({k: v for k, v in arrays.items() if not k.startswith("profile.")},
            {k: v for k, v in header["fitted"].items() if k != "params"})


def assert_fits_over_ranks(tabula, run_tabula, data, model, target, drop, extra, tmp_path,
                           exact=(), rtol=1e-10):
    """Fits on one process, then over 1 to 4 ranks; arrays and header values named in `exact`
    (or every one when exact is True) and those not floating must be equal, the others within
    rtol. Returns the one-process model file."""
    single = tmp_path / "single.tbl"
    run_tabula(*fit_args(data, model, target, drop, single), *extra)
    arrays, header = fitted_state(single)
    assert arrays
    for ranks in (1, 2, 3, 4):
        out = tmp_path / f"ranks{ranks}.tbl"
        result = mpirun(ranks, tabula, *fit_args(data, model, target, drop, out), *extra,
                        "--distributed")
        assert result.returncode == 0, result.stderr
        got_arrays, got_header = fitted_state(out)
        assert got_arrays.keys() == arrays.keys() and got_header.keys() == header.keys(), ranks
        for name, values in [*arrays.items(), *header.items()]:
            got = got_arrays[name] if name in arrays else got_header[name]
            if not np.issubdtype(np.asarray(values).dtype, np.number):
                assert got == values, (ranks, name)
            elif exact is True or name in exact:
                assert np.array_equal(got, values, equal_nan=True), (ranks, name, got, values)
            else:
                assert np.allclose(got, values, rtol=rtol, atol=rtol, equal_nan=True), (
                    ranks, name, got, values)
    return single


def assert_same_predictions(run_tabula, expected_model, model, data):
    """`tabula predict` writes the same file with both models."""
    outputs = []
    for path in (expected_model, model):
        out = path.with_suffix(".csv")
        run_tabula("predict", "--model", path, "--data", data, "--out", out, "--quiet")
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]


@pytest.fixture(scope="module")
def ties_table(tmp_path_factory):
    """1,001 rows (odd, so the median is one value): a feature and a target of few values,
    negative, zero (also written -0) and positive, with many ties."""
    rng = np.random.default_rng(11)
    n = 1001
    path = tmp_path_factory.mktemp("ties") / "ties.csv"
    values = ["-2.5", "-0", "0", "1e-30", "-1e-30", "3", "7.25", "3e38"]
    with open(path, "w") as f:
        f.write("a,y\n")
        for i in range(n):
            f.write(f"{rng.normal():.6g},{values[rng.integers(0, len(values))]}\n")
    return path


DUMMY_REGRESSOR_CASES = [
    (["strategy=mean"], ()),
    (["strategy=median"], True),
    (["strategy=quantile", "quantile=0.3"], True),
    (["strategy=quantile", "quantile=0.9"], True),
    (["strategy=quantile", "quantile=0"], True),
    (["strategy=quantile", "quantile=1"], True),
]


@pytest.mark.parametrize("params,exact", DUMMY_REGRESSOR_CASES,
                         ids=["-".join(c[0]) for c in DUMMY_REGRESSOR_CASES])
@pytest.mark.parametrize("data", ["table", "ties"])
def test_distributed_dummy_regressor_equals_one_process(mpi_tabula, run_tabula, table, ties_table,
                                                         tmp_path, params, exact, data):
    extra = [arg for p in params for arg in ("--param", p)]
    if data == "table":
        assert_fits_over_ranks(mpi_tabula, run_tabula, table, "dummy", "y", ["binary", "three"],
                               extra, tmp_path, exact)
    else:
        assert_fits_over_ranks(mpi_tabula, run_tabula, ties_table, "dummy", "y", [],
                               [*extra, "--task", "regression"], tmp_path, exact)


@pytest.mark.parametrize("strategy", ["prior", "most_frequent", "stratified"])
def test_distributed_dummy_classifier_is_the_one_process_classifier(mpi_tabula, run_tabula, table,
                                                                    tmp_path, strategy):
    # Unit weights: the class counts are integers, so the priors are exact.
    single = assert_fits_over_ranks(mpi_tabula, run_tabula, table, "dummy", "three",
                                    ["y", "binary"], ["--param", f"strategy={strategy}"],
                                    tmp_path, exact=True)
    # The same model predicts the same classes (stratified: the same draws).
    assert_same_predictions(run_tabula, single, tmp_path / "ranks3.tbl", table)


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    """1,500 rows around four centres in three features, and a positive weight column."""
    rng = np.random.default_rng(5)
    n = 1500
    centres = np.array([[0, 0, 0], [5, 5, 0], [0, 6, 3], [8, 0, 8]], dtype=float)
    label = rng.integers(0, 4, n)
    x = centres[label] + rng.normal(size=(n, 3)) + [0, 0, 100]
    weight = rng.integers(1, 4, n)
    path = tmp_path_factory.mktemp("blobs") / "blobs.csv"
    with open(path, "w") as f:
        f.write("a,b,c,w\n")
        for i in range(n):
            f.write(",".join(f"{v:.6g}" for v in x[i]) + f",{weight[i]}\n")
    return path


KMEANS_CASES = [
    # One Lloyd step: the centres are the means of the seeds' cells, so a seed row picked
    # differently from one process would show.
    ["n_clusters=4", "max_iter=1"],
    ["n_clusters=4", "init=random", "n_init=3", "max_iter=1"],
    ["n_clusters=6", "n_init=2"],
    ["n_clusters=4", "init=random", "tol=0.5"],
    ["n_clusters=5", "max_iter=1", "weighted"],
    # A given centre far from every row: its cluster is empty and refilled by the farthest row.
    ["n_clusters=3", "init=[[0,0,100],[5,5,100],[500,500,500]]", "max_iter=2"],
]


@pytest.mark.parametrize("params", KMEANS_CASES, ids=["-".join(c) for c in KMEANS_CASES])
def test_distributed_kmeans_equals_one_process(mpi_tabula, run_tabula, blobs, tmp_path, params):
    extra = ["--param", "random_state=3"]
    for param in params:
        extra += ["--sample-weight", "w"] if param == "weighted" else ["--param", param]
    drop = [] if "weighted" in params else ["w"]
    single = assert_fits_over_ranks(mpi_tabula, run_tabula, blobs, "kmeans", "", drop, extra,
                                    tmp_path, exact=["n_clusters", "n_features_in_", "n_iter_"])
    assert_same_predictions(run_tabula, single, tmp_path / "ranks4.tbl", blobs)


@pytest.mark.parametrize("rows", [1500, 10_600], ids=["every-row", "sampled"])
def test_distributed_clustering_metrics_are_every_ranks(mpi_tabula, run_tabula, tmp_path, rows):
    """Inertia and Davies-Bouldin from per-cluster sums over the ranks (1e-10); the silhouette
    of the same rows as one process (all of them, or the seeded sample above 10,000)."""
    rng = np.random.default_rng(9)
    x = rng.normal(size=(rows, 2)) + rng.integers(0, 3, rows)[:, None] * [6.0, 2.0]
    data = tmp_path / "points.csv"
    np.savetxt(data, x, delimiter=",", fmt="%.6g", header="a,b", comments="")
    args = fit_args(data, "kmeans", "", [], tmp_path / "one.tbl") + ["--param", "n_clusters=3"]
    run_tabula(*args)
    expected = read_artifact(tmp_path / "one.tbl")[0]["training"]["metrics"]["training_rows"]
    for ranks in (2, 3):
        out = tmp_path / f"ranks{ranks}.tbl"
        result = mpirun(ranks, mpi_tabula, *fit_args(data, "kmeans", "", [], out),
                        "--param", "n_clusters=3", "--distributed")
        assert result.returncode == 0, result.stderr
        got = read_artifact(out)[0]["training"]["metrics"]["training_rows"]
        assert got["silhouette"] == expected["silhouette"], ranks
        for name in ("inertia", "davies_bouldin"):
            assert np.isclose(got[name], expected[name], rtol=1e-10, atol=0), (ranks, name)


def with_code_column(lines):
    """A sixth feature column 'k' of category codes 0..11 tied to the target, -1 (missing) in
    every eleventh row."""
    lines[0] += ",k"
    for i in range(1, len(lines)):
        y = float(lines[i].split(",")[5])
        lines[i] += ",-1" if i % 11 == 0 else f",{(int(y // 2) * 5) % 12}"


GBDT_CASES = [
    ("y", ["binary", "three"], []),
    ("y", ["binary", "three"], ["loss=absolute_error", "max_leaf_nodes=8"]),
    ("y", ["binary", "three"], ["max_depth=3", "l2_regularization=1", "max_features=0.6"]),
    ("binary", ["y", "three"], []),
    ("three", ["y", "binary"], ["class_weight=balanced"]),
    ("three", ["y", "binary"], ["weighted"]),
    ("y", ["binary", "three"], ["weighted", "missing"]),
    # Native categorical splits on a column of codes (negative: missing).
    ("y", ["binary", "three"], ["codes", "categorical_features=[5]"]),
    ("three", ["y", "binary"], ["codes", "categorical_features=[5]", "max_iter=10"]),
    # Early stopping: the validation split is the one-process split, over every rank's rows.
    ("y", ["binary", "three"], ["early_stopping=true", "n_iter_no_change=3", "max_iter=80"]),
    ("three", ["y", "binary"], ["early_stopping=true", "validation_fraction=0.25",
                                "n_iter_no_change=2", "max_iter=80", "learning_rate=0.5"]),
    ("binary", ["y", "three"], ["early_stopping=true", "validation_fraction=None", "tol=0.001",
                                "n_iter_no_change=2", "max_iter=80", "learning_rate=0.5"]),
]


@pytest.mark.parametrize("target,drop,params", GBDT_CASES,
                         ids=[f"{c[0]}-{'-'.join(c[2]) or 'defaults'}" for c in GBDT_CASES])
def test_distributed_gbdt_is_the_single_process_gbdt_bit_for_bit(
        mpi_tabula, run_tabula, table, tmp_path, target, drop, params):
    data = table
    if "missing" in params:
        data = edited_copy(table, tmp_path / "missing.csv", with_missing_cells)
    if "codes" in params:
        data = edited_copy(table, tmp_path / "codes.csv", with_code_column)
    extra = [] if any(p.startswith("max_iter=") for p in params) else ["--param", "max_iter=15"]
    for param in params:
        if param == "weighted":  # column e as weights: positive, varied
            extra += ["--sample-weight", "e"]
        elif "=" in param:
            extra += ["--param", param]
    single = assert_fits_over_ranks(mpi_tabula, run_tabula, data, "gbdt", target, drop, extra,
                                    tmp_path, exact=True)
    assert_same_predictions(run_tabula, single, tmp_path / "ranks3.tbl", data)
    header, arrays = read_artifact(single)
    if "early_stopping=true" in params:  # it did stop early, from the validation scores
        assert header["fitted"]["n_iter_"] < 80
    if "codes" in params:  # some splits are category sets
        assert (arrays["gbdt.category_set"] >= 0).any()


def test_distributed_gbdt_auto_early_stopping_above_10000_rows(mpi_tabula, run_tabula, tmp_path):
    rng = np.random.default_rng(2)
    n = 10_500
    x = rng.normal(size=(n, 3))
    y = np.sin(x[:, 0]) + x[:, 1] * x[:, 2] + rng.normal(scale=0.3, size=n)
    data = tmp_path / "big.csv"
    with open(data, "w") as f:
        f.write("a,b,c,y\n")
        for i in range(n):
            f.write(f"{x[i, 0]:.6g},{x[i, 1]:.6g},{x[i, 2]:.6g},{y[i]:.6g}\n")
    single = assert_fits_over_ranks(mpi_tabula, run_tabula, data, "gbdt", "y", [],
                                    ["--param", "n_iter_no_change=3"], tmp_path, exact=True)
    header, _ = read_artifact(single)
    assert header["fitted"]["validation_score_"]  # 'auto' turned early stopping on


def test_distributed_gbdt_refuses_weighted_absolute_error(mpi_tabula, table, tmp_path):
    result = mpirun(2, mpi_tabula, *fit_args(table, "gbdt", "y", ["binary", "three"],
                                             tmp_path / "g.tbl"),
                    "--param", "loss=absolute_error", "--sample-weight", "e", "--distributed")
    assert result.returncode != 0
    assert "absolute_error with sample weights is not fitted over ranks" in result.stderr
    assert not (tmp_path / "g.tbl").exists()


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


# Kept small so that every registered model and task runs in seconds.
QUICK_PARAMS = {"forest": ["n_estimators=5"], "gbdt": ["max_iter=8"]}
TASK_COLUMNS = {"regression": ("y", ["binary", "three"]),
                "classification": ("three", ["y", "binary"]),
                "transform": ("", ["y", "binary", "three"]),
                "clustering": ("", ["y", "binary", "three"])}


def test_every_registered_model_fits_over_ranks(mpi_tabula, run_tabula, table, tmp_path):
    """Every model kind of the registry, for every task it serves, with its default pipeline:
    the fit over 2 ranks is the one-process fit (floats within 1e-10, everything else equal).
    A model added to the registry is enumerated here."""
    import json
    models = json.loads(run_tabula("models", "--json").stdout)
    assert len(models) >= 12
    for entry in models:
        name = entry["name"]
        params = QUICK_PARAMS.get(name.split("-")[0], [])
        for task in entry["tasks"]:
            target, drop = TASK_COLUMNS[task]
            extra = [arg for p in params for arg in ("--param", p)]
            if task in ("regression", "classification"):
                extra += ["--task", task]
            single = tmp_path / f"{name}-{task}-single.tbl"
            run_tabula(*fit_args(table, name, target, drop, single, pipeline=()), *extra)
            out = tmp_path / f"{name}-{task}-ranks.tbl"
            result = mpirun(2, mpi_tabula, *fit_args(table, name, target, drop, out, pipeline=()),
                            *extra, "--distributed")
            assert result.returncode == 0, (name, task, result.stderr)
            _, expected = read_artifact(single)
            _, got = read_artifact(out)
            assert got.keys() == expected.keys(), (name, task)
            for key, values in expected.items():
                if values.dtype.kind == "f":
                    assert np.allclose(got[key], values, rtol=1e-10, atol=1e-10,
                                       equal_nan=True), (name, task, key)
                else:
                    assert np.array_equal(got[key], values), (name, task, key)


def test_what_cannot_run_over_ranks_is_refused_before_reading(mpi_tabula, table, tmp_path):
    # Refused from the options alone: the data file need not even exist. (Every registered
    # model has a data-parallel fit, so a model refusal has no subject here; the registry test
    # test_every_registered_model_fits_over_ranks covers the list.)
    missing = tmp_path / "no-such.csv"
    result = mpirun(2, mpi_tabula, "train", "--data", missing, "--target", "y", "--model",
                    "ridge", "--test-size", "0.2", "--out", tmp_path / "f.tbl", "--distributed")
    assert result.returncode != 0
    assert "pass --test-size 0" in result.stderr
    assert "no-such.csv" not in result.stderr


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

    # Rank 0 holds the folder lock and writes the journal; rank 1 only runs trials: both kinds
    # of death must leave a folder the same command resumes to the uninterrupted board.
    for victim_rank in (1, 0):
        out = tmp_path / f"killed{victim_rank}"
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
        victim = rank_pid(launcher.pid, victim_rank)
        assert launcher.poll() is None and victim, "the search finished before a rank was killed"
        os.kill(victim, signal.SIGKILL)
        killed_at = time.time()
        _, stderr = launcher.communicate(timeout=30)
        assert launcher.returncode != 0
        assert time.time() - killed_at < 10, f"rank {victim_rank}'s peer outlived it"
        lines = journal.read_text().count("\n")
        assert 1 <= lines < 12, victim_rank
        assert not (out / "leaderboard.csv").exists()

        result = mpirun(2, mpi_tabula, *args, "--out", out, "--distributed")
        assert result.returncode == 0, (victim_rank, result.stderr)
        assert f"{lines} resumed from the journal" in result.stdout, victim_rank
        assert board_without_times(out / "leaderboard.csv") == expected, victim_rank
