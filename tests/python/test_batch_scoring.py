"""Streaming batch scoring (`tabula predict`): chunked results equal one-chunk results, id and
kept columns, .npy output, the stop and skip bad-row policies, and the memory bound."""
import os
import subprocess

import numpy as np
import pytest

CHUNKS = [1, 7, 333, 1_000_000]  # 1_000_000: the whole file in one chunk, as in memory


def write_table(path, rows, seed, with_nan=True, extras=True):
    """Six numeric features (some missing when with_nan), a binary label and a numeric target;
    with extras, a text id with awkward values first and a text column models do not use."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 6))
    if with_nan:
        x[rng.random(size=x.shape) < 0.05] = np.nan
    label = (np.nan_to_num(x[:, 0]) + 0.5 * np.nan_to_num(x[:, 1]) > 0).astype(int)
    y = 2 * np.nan_to_num(x[:, 0]) - np.nan_to_num(x[:, 2]) + rng.normal(scale=0.1, size=rows)
    names = ",".join(f"x{j}" for j in range(6))
    lines = [f"id,{names},note,label,y" if extras else f"{names},label,y"]
    for i in range(rows):
        ident = {0: '"a,b"', 1: "NA", 2: '"q""uote"'}.get(i % 50, f"r{i:05d}")
        feats = ",".join("" if np.isnan(v) else repr(float(v)) for v in x[i])
        if extras:
            lines.append(f"{ident},{feats},note{i % 3},{label[i]},{float(y[i])!r}")
        else:
            lines.append(f"{feats},{label[i]},{float(y[i])!r}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("batch")


@pytest.fixture(scope="module")
def table(work):
    return write_table(work / "table.csv", 1500, seed=5)


@pytest.fixture(scope="module")
def forest(work, run_tabula):
    data = write_table(work / "forest_train.csv", 1500, seed=5, extras=False)
    out = work / "forest.tbl"
    run_tabula("train", "--data", data, "--target", "label", "--model", "forest",
               "--param", "n_estimators=10", "--param", "max_depth=6", "--seed", "3",
               "--out", out)
    return out


@pytest.fixture(scope="module")
def ridge(work, run_tabula):
    train = write_table(work / "ridge_train.csv", 800, seed=9, with_nan=False, extras=False)
    data = write_table(work / "clean.csv", 800, seed=9, with_nan=False)
    out = work / "ridge.tbl"
    run_tabula("train", "--data", train, "--target", "y", "--model", "ridge", "--seed", "1",
               "--out", out)
    return out, data


def predict(run_tabula, model, data, out, *extra, expect=0):
    return run_tabula("predict", "--model", model, "--data", data, "--out", out, *extra,
                      expect=expect)


@pytest.mark.parametrize("proba", [False, True])
def test_forest_predictions_do_not_depend_on_the_chunk_size(work, table, forest, run_tabula,
                                                            proba):
    flag = ["--proba"] if proba else []
    outputs = []
    for rows in CHUNKS:
        out = work / f"forest-{rows}-{proba}.csv"
        predict(run_tabula, forest, table, out, "--chunk-rows", rows, *flag)
        outputs.append(out.read_text())
    assert all(o == outputs[-1] for o in outputs)
    lines = outputs[-1].splitlines()
    assert len(lines) == 1501
    assert lines[0] == ("proba_0,proba_1" if proba else "prediction")
    if proba:
        p = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-9)
    else:
        assert set(lines[1:]) == {"0", "1"}


def test_ridge_matches_its_weights(work, ridge, run_tabula):
    model, data = ridge
    outputs = []
    for rows in CHUNKS:
        out = work / f"ridge-{rows}.csv"
        predict(run_tabula, model, data, out, "--chunk-rows", rows)
        outputs.append(out.read_text())
    assert all(o == outputs[-1] for o in outputs)
    pred = np.array([float(v) for v in outputs[-1].splitlines()[1:]])
    # The in-memory reference: a least-squares fit with a small penalty is close to the true
    # coefficients, so the streamed predictions track y closely on every row.
    import pandas as pd
    y = pd.read_csv(data)["y"].to_numpy()
    assert pred.shape == y.shape
    assert np.abs(pred - y).max() < 0.6
    assert np.corrcoef(pred, y)[0, 1] > 0.99


def test_id_and_kept_columns_are_copied_as_written(work, table, forest, run_tabula):
    out = work / "ids.csv"
    predict(run_tabula, forest, table, out, "--id-column", "id", "--keep-columns", "note,x1",
            "--chunk-rows", "64")
    import pandas as pd
    got = pd.read_csv(out, keep_default_na=False, dtype=str)
    src = pd.read_csv(table, keep_default_na=False, dtype=str)
    assert list(got.columns) == ["id", "note", "x1", "prediction"]
    assert (got["id"] == src["id"]).all()  # "NA", "a,b" and 'q"uote' included
    assert (got["note"] == src["note"]).all()
    # x1 is also a feature: written as parsed (shortest round trip), missing as empty.
    a = pd.to_numeric(got["x1"].replace("", np.nan))
    b = pd.to_numeric(src["x1"].replace("", np.nan))
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_npy_output_is_readable_by_numpy(work, table, forest, run_tabula):
    csv_out, npy_out = work / "p.csv", work / "p.npy"
    predict(run_tabula, forest, table, csv_out, "--proba", "--chunk-rows", "100")
    predict(run_tabula, forest, table, npy_out, "--proba", "--chunk-rows", "100")
    p = np.load(npy_out)
    assert p.shape == (1500, 2) and p.dtype == np.float64
    np.testing.assert_array_equal(p, np.loadtxt(csv_out, delimiter=",", skiprows=1))
    labels_out = work / "labels.npy"
    predict(run_tabula, forest, table, labels_out)
    labels = np.load(labels_out)
    assert labels.shape == (1500,)
    np.testing.assert_array_equal(labels, p.argmax(axis=1).astype(float))
    r = predict(run_tabula, forest, table, work / "bad.npy", "--id-column", "id", expect=1)
    assert "need CSV or Parquet output" in r.stderr
    assert not (work / "bad.npy").exists()


def leftovers(folder):
    return [name for name in os.listdir(folder) if ".tmp." in name]


def test_stop_policy_names_the_line_and_writes_nothing(work, table, forest, run_tabula):
    lines = table.read_text().splitlines()
    bad = lines.copy()
    fields = bad[900].split(",")
    fields[1] = "oops"  # text in x0 on line 901
    bad[900] = ",".join(fields)
    bad_path = work / "bad_stop.csv"
    bad_path.write_text("\n".join(bad) + "\n")
    out = work / "stop.csv"
    for rows in (50, 1_000_000):
        r = predict(run_tabula, forest, bad_path, out, "--chunk-rows", rows, expect=1)
        assert f"bad_stop.csv:901: column 2 ('x0'): value 'oops' is not a number" in r.stderr
        assert not out.exists()
        assert not (work / "stop.csv.rejects.csv").exists()
        assert leftovers(work) == []


def test_skip_policy_counts_add_up_and_lists_the_lines(work, table, forest, run_tabula):
    lines = table.read_text().splitlines()
    bad = lines.copy()
    bad_lines = {12: "ragged", 400: "text", 401: "ragged", 1499: "text"}  # 1-based file lines
    for line, kind in bad_lines.items():
        i = line - 1
        if kind == "ragged":
            bad[i] = bad[i] + ",extra"
        else:
            fields = bad[i].split(",")
            fields[3] = "zzz"  # x2: a quoted id holds no comma on these lines
            bad[i] = ",".join(fields)
    bad_path = work / "bad_skip.csv"
    bad_path.write_text("\n".join(bad) + "\n")
    clean_out, out = work / "clean_pred.csv", work / "skip.csv"
    predict(run_tabula, forest, table, clean_out, "--proba")
    for rows in (3, 1_000_000):
        r = predict(run_tabula, forest, bad_path, out, "--proba", "--on-error", "skip",
                    "--chunk-rows", rows)
        assert "scored 1496, rejected 4, total 1500 lines" in r.stderr
        rejects = (work / "skip.csv.rejects.csv").read_text().splitlines()
        assert rejects[0] == "line,column,reason"
        assert [int(x.split(",")[0]) for x in rejects[1:]] == sorted(bad_lines)
        assert "x2" in rejects[2] and "not a number" in rejects[2]
        assert "wrong number of fields" in rejects[1]
        # The scored rows are the clean file's rows minus the rejected ones, in order.
        keep = [i for i in range(1500) if i + 2 not in bad_lines]
        clean = clean_out.read_text().splitlines()
        assert out.read_text().splitlines() == [clean[0]] + [clean[i + 1] for i in keep]
    custom = work / "my_rejects.csv"
    predict(run_tabula, forest, bad_path, out, "--on-error", "skip", "--rejects", custom)
    assert len(custom.read_text().splitlines()) == 5


def max_rss_kib(args):
    """Peak resident memory of one child process. Measured by /usr/bin/time (a small process
    that forks and execs): pytest's own rusage of a child would count the forked copy of this
    interpreter before the exec."""
    if not os.access("/usr/bin/time", os.X_OK):
        pytest.skip("/usr/bin/time (GNU time) is not installed")
    proc = subprocess.run(["/usr/bin/time", "-f", "maxrss_kib=%M", *args],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 0, proc.stderr
    line = [x for x in proc.stderr.splitlines() if x.startswith("maxrss_kib=")][-1]
    return int(line.split("=")[1])


def test_memory_is_bounded_by_the_chunk_not_the_file(work, ridge, tabula_bin):
    model, data = ridge
    block = "".join(data.read_text().splitlines(keepends=True)[1:])
    header = data.read_text().splitlines()[0] + "\n"
    sizes = {}
    for name, megabytes in (("small", 30), ("large", 120)):
        path = work / f"{name}.csv"
        with open(path, "w") as f:
            f.write(header)
            for _ in range(megabytes * 2**20 // len(block) + 1):
                f.write(block)
        out = work / f"{name}-pred.csv"
        sizes[name] = max_rss_kib([tabula_bin, "predict", "--model", str(model), "--data",
                                   str(path), "--out", str(out), "--chunk-rows", "8192"])
        rows = sum(1 for _ in open(out)) - 1
        assert rows == (megabytes * 2**20 // len(block) + 1) * 800
        path.unlink()
        out.unlink()
    assert sizes["large"] < 1.3 * sizes["small"] + 8 * 1024, sizes
    # And the bound is the chunk's, not the file's: what the large file adds over scoring the
    # small source file is far below the 120 MB input. (The baseline matters: a CUDA build maps
    # the CUDA libraries, ~250 MB of resident pages, before reading a byte.)
    out = work / "baseline-pred.csv"
    baseline = max_rss_kib([tabula_bin, "predict", "--model", str(model), "--data", str(data),
                            "--out", str(out), "--chunk-rows", "8192"])
    assert sizes["large"] - baseline < 60 * 1024, (sizes, baseline)


PIPELINE_TOML = """
[pipeline]
[[pipeline.branches]]
name = "numeric"
type = "numeric"
steps = [{ kind = "SimpleImputer", strategy = "median" }, { kind = "StandardScaler" }]
[[pipeline.branches]]
name = "categorical"
type = "categorical"
steps = [{ kind = "SimpleImputer", strategy = "most_frequent" },
         { kind = "OneHotEncoder", handle_unknown = "error" }]
"""


def test_categorical_pipeline_streams_and_rejects_unseen_categories(work, run_tabula):
    """A pipeline with a text column: chunking does not change the predictions, and a category
    not seen in training (handle_unknown=error) stops the job, or is rejected in skip mode."""
    rng = np.random.default_rng(4)
    cities = np.array(["oslo", "paris", "rome"])
    lines = ["a,city,b,y"]
    for i in range(600):
        a, b, c = rng.normal(), rng.normal(), cities[i % 3]
        y = 2 * a - b + {"oslo": 0, "paris": 3, "rome": -2}[c] + rng.normal(scale=0.1)
        lines.append(f"{a!r},{c},{'' if i % 13 == 0 else repr(b)},{y!r}")
    train = work / "cities.csv"
    train.write_text("\n".join(lines) + "\n")
    spec = work / "pipeline.toml"
    spec.write_text(PIPELINE_TOML)
    model = work / "cities.tbl"
    run_tabula("train", "--data", train, "--target", "y", "--model", "ridge", "--pipeline", spec,
               "--test-size", "0", "--out", model)
    outputs = []
    for rows in CHUNKS:
        out = work / f"cities-{rows}.csv"
        predict(run_tabula, model, train, out, "--chunk-rows", rows)
        outputs.append(out.read_text())
    assert all(o == outputs[-1] for o in outputs)
    pred = np.array([float(v) for v in outputs[-1].splitlines()[1:]])
    y = np.array([float(line.rsplit(",", 1)[1]) for line in lines[1:]])
    present = np.arange(600) % 13 != 0  # rows with b blank were imputed: y used the real b
    assert np.abs(pred - y)[present].max() < 0.6  # the city offsets came through the one-hot

    unseen = lines.copy()
    unseen[250] = unseen[250].replace(cities[249 % 3], "lima")  # line 251
    bad = work / "cities_unseen.csv"
    bad.write_text("\n".join(unseen) + "\n")
    out = work / "cities_out.csv"
    r = predict(run_tabula, model, bad, out, "--chunk-rows", 100, expect=1)
    assert "cities_unseen.csv:251: column 'city'" in r.stderr, r.stderr
    assert not out.exists()
    # Stop mode reports the first bad row of the file, whichever stage finds it: here the
    # pipeline's (line 251) comes before the parser's (line 400) in the same chunk, and after
    # the parser's (line 30) in the second file.
    for parse_line, expected in ((400, 251), (30, 30)):
        both = unseen.copy()
        both[parse_line - 1] += ",extra"
        path = work / f"cities_both_{parse_line}.csv"
        path.write_text("\n".join(both) + "\n")
        r = predict(run_tabula, model, path, out, "--chunk-rows", 1_000_000, expect=1)
        assert f"cities_both_{parse_line}.csv:{expected}:" in r.stderr, r.stderr
    r = predict(run_tabula, model, bad, out, "--chunk-rows", 100, "--on-error", "skip")
    assert "scored 599, rejected 1, total 600 lines" in r.stderr
    rejects = (work / "cities_out.csv.rejects.csv").read_text().splitlines()
    assert len(rejects) == 2 and rejects[1].startswith("251,city,")
    kept = out.read_text().splitlines()
    clean = outputs[-1].splitlines()
    assert kept == clean[:250] + clean[251:]
