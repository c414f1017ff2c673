"""Data-parallel training over MPI ranks (docs/distributed.md): the model rank 0 writes equals the
single-process fit on the whole file for 1 to 4 ranks, and a failing rank ends the job on every
rank with its reason and no model file. Skipped, with the reason, where mpirun is missing or the
binary was built without MPI. A tuning search spread over ranks gives the one-process board and
resumes after a rank is killed."""
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


def mpirun(ranks, *args, timeout=TIMEOUT_S):
    env = {**os.environ, **ROOT_ENV}
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
    rng = np.random.default_rng(7)
    n = 1500
    x = rng.normal(size=(n, 5)) * [1.0, 10.0, 0.1, 3.0, 1.0] + [0.0, 100.0, -2.0, 0.0, 5.0]
    y = x @ [1.5, -0.2, 3.0, 0.7, 0.0] + rng.normal(scale=0.5, size=n)
    score = x[:, 0] - 0.1 * (x[:, 1] - 100) + rng.normal(size=n)
    binary = (score > 0).astype(int)
    three = np.digitize(score, [-1.0, 1.0])
    path = tmp_path_factory.mktemp("distributed") / "table.csv"
    with open(path, "w") as f:
        f.write("a,b,c,d,e,y,binary,three\n")
        for i in range(n):
            cells = [f"{v:.6g}" for v in x[i]] + [f"{y[i]:.6g}", str(binary[i]), str(three[i])]
            f.write(",".join(cells) + "\n")
    return path


def fit_args(data, model, target, drop, out):
    args = ["train", "--data", data, "--model", model, "--test-size", "0", "--impute", "none",
            "--scale", "none", "--out", out]
    if target:
        args += ["--target", target]
    for column in drop:
        args += ["--drop", column]
    return args


def model_arrays(path):
    """The fitted state: the estimator's and the pipeline's arrays (a distributed fit stores no
    drift profile)."""
    _, arrays = read_artifact(path)
    return {k: v for k, v in arrays.items() if v.dtype.kind == "f" and not k.startswith("profile.")}


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
]


@pytest.mark.parametrize("model,target,drop,params", FOREST_CASES,
                         ids=[f"{c[1]}-{'-'.join(c[3]) or 'defaults'}" for c in FOREST_CASES])
def test_distributed_forest_is_the_single_process_forest_bit_for_bit(
        mpi_tabula, run_tabula, table, tmp_path, model, target, drop, params):
    data = table
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
    for ranks in (1, 2, 3, 4):
        out = tmp_path / f"ranks{ranks}.tbl"
        result = mpirun(ranks, mpi_tabula, *fit_args(data, model, target, drop, out), *extra,
                        "--distributed")
        assert result.returncode == 0, result.stderr
        got = forest_arrays(out)
        assert got.keys() == expected.keys(), ranks
        for name, values in expected.items():
            assert got[name].dtype == values.dtype and np.array_equal(
                got[name], values, equal_nan=True), (ranks, name)


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
