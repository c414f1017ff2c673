"""`tabula serve` over HTTP: the Open Inference Protocol through tritonclient and curl, MLflow
/invocations, errors, micro-batching seen from /metrics, bearer tokens. Answers are checked
against `tabula predict` on the same rows."""
import concurrent.futures
import csv
import json
import pathlib
import random
import re
import subprocess

import numpy as np
import pytest
import tritonclient.http as httpclient

from test_server_harness import Server, train

WINE_FEATURES = None
ROOT = pathlib.Path(__file__).resolve().parents[2]


def read_csv(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def repo(tmp_path_factory, run_tabula, data_dir):
    root = tmp_path_factory.mktemp("repo")
    train(run_tabula, data_dir / "wine.csv", "target", "forest", root / "wine" / "1" / "model.tabula",
          "n_estimators=8")
    train(run_tabula, data_dir / "diabetes.csv", "target", "ridge",
          root / "diabetes" / "1" / "model.tabula")
    # Long enough for concurrent requests to meet in one batch.
    (root / "diabetes" / "config.toml").write_text("[batching]\nmax_queue_delay_us = 20000\n")
    rng = random.Random(3)
    colors = root.parent / "colors.csv"
    with open(colors, "w") as f:
        f.write("color,size,label\n")
        for _ in range(120):
            c, s = rng.choice(["red", "green", "blue"]), rng.uniform(0, 10)
            f.write(f"{c},{s:.3f},{'big' if s + (3 if c == 'red' else 0) > 6 else 'small'}\n")
    train(run_tabula, colors, "label", "logistic", root / "colors" / "7" / "colors.tabula")
    return root


@pytest.fixture(scope="module")
def server(tabula_bin, repo):
    s = Server(tabula_bin, repo, "--max-body-bytes", 200000, "--max-rows", 500)
    yield s
    assert s.stop() == 0


def predict_cli(run_tabula, model, rows_csv, tmp_path, proba=False):
    out = tmp_path / ("proba.csv" if proba else "pred.csv")
    run_tabula("predict", "--model", model, "--data", rows_csv, "--out", out,
               *(["--proba"] if proba else []))
    header, rows = read_csv(out)
    return np.array([[float(v) for v in r] for r in rows])


def wine_rows(data_dir, n):
    header, rows = read_csv(data_dir / "wine.csv")
    features = header[:-1]
    x = np.array([[float(v) for v in r[:-1]] for r in rows[:n]])
    return features, x


def test_tritonclient_per_column_inputs_match_tabula_predict(server, repo, run_tabula, data_dir,
                                                            tmp_path):
    client = httpclient.InferenceServerClient(url=server.url.removeprefix("http://"))
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("wine")
    meta = client.get_model_metadata("wine")
    features, x = wine_rows(data_dir, 20)
    assert [i["name"] for i in meta["inputs"]] == features
    assert {o["name"] for o in meta["outputs"]} == {"predict", "probabilities"}

    model = repo / "wine" / "1" / "model.tabula"
    rows_csv = tmp_path / "rows.csv"
    with open(rows_csv, "w") as f:
        f.write(",".join(features) + "\n")
        for r in x:
            f.write(",".join(repr(float(v)) for v in r) + "\n")
    want_pred = predict_cli(run_tabula, model, rows_csv, tmp_path)[:, 0]
    want_proba = predict_cli(run_tabula, model, rows_csv, tmp_path, proba=True)

    for binary in (False, True):
        inputs = []
        for j, name in enumerate(features):
            t = httpclient.InferInput(name, [len(x)], "FP64")
            t.set_data_from_numpy(x[:, j].copy(), binary_data=binary)
            inputs.append(t)
        outputs = [httpclient.InferRequestedOutput("predict", binary_data=False),
                   httpclient.InferRequestedOutput("probabilities", binary_data=False)]
        result = client.infer("wine", inputs, outputs=outputs, request_id="req-42")
        assert result.get_response()["id"] == "req-42"
        assert result.get_response()["model_version"] == "1"
        np.testing.assert_array_equal(result.as_numpy("predict"), want_pred)
        np.testing.assert_allclose(result.as_numpy("probabilities"), want_proba, atol=1e-6)


def test_tritonclient_matrix_input_and_text_labels(server, data_dir):
    client = httpclient.InferenceServerClient(url=server.url.removeprefix("http://"))
    features, x = wine_rows(data_dir, 5)
    t = httpclient.InferInput("x", list(x.shape), "FP32")
    t.set_data_from_numpy(x.astype(np.float32), binary_data=False)
    matrix = client.infer("wine", [t]).as_numpy("predict")
    cols = []
    for j, name in enumerate(features):
        c = httpclient.InferInput(name, [len(x)], "FP32")
        c.set_data_from_numpy(x[:, j].astype(np.float32), binary_data=False)
        cols.append(c)
    np.testing.assert_array_equal(client.infer("wine", cols).as_numpy("predict"), matrix)

    # A categorical column as BYTES; labels come back as text.
    color = httpclient.InferInput("color", [3], "BYTES")
    color.set_data_from_numpy(np.array([b"red", b"blue", b"green"], dtype=object), binary_data=True)
    size = httpclient.InferInput("size", [3], "FP64")
    size.set_data_from_numpy(np.array([5.0, 9.5, 0.5]), binary_data=False)
    result = client.infer("colors", [color, size])
    labels = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("predict")]
    assert labels == ["big", "big", "small"]
    assert result.get_response()["model_version"] == "7"
    assert result.as_numpy("probabilities").shape == (3, 2)


def curl(url, *args):
    out = subprocess.run(["curl", "-s", "-i", *args, url], capture_output=True, text=True,
                         timeout=30)
    head, _, body = out.stdout.partition("\n\n")  # text mode turned CRLF into LF
    status = int(head.split()[1])
    headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip()
               for line in head.splitlines()[1:] if ":" in line}
    return status, headers, body


def test_curl_v2_and_invocations(server):
    body = {"id": "abc", "parameters": {"note": "x"},
            "inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 10],
                        "data": [0.03, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, 0, 0.01, -0.01]}]}
    status, headers, text = curl(server.url + "/v2/models/diabetes/infer", "-d", json.dumps(body))
    assert status == 200 and headers["x-model-version"] == "1"
    v2 = json.loads(text)
    assert v2["id"] == "abc" and v2["model_name"] == "diabetes"
    assert v2["outputs"][0]["shape"] == [1]

    names = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    split = {"dataframe_split": {"columns": names, "data": [body["inputs"][0]["data"]]}}
    status, headers, text = curl(server.url + "/invocations?model=diabetes", "-d", json.dumps(split))
    assert status == 200 and headers["x-model-version"] == "1"
    assert json.loads(text)["predictions"] == pytest.approx(v2["outputs"][0]["data"], rel=1e-12)

    records = {"dataframe_records": [{"color": "red", "size": 5.0}, {"color": None, "size": 1.0}]}
    status, _, text = curl(server.url + "/invocations?model=colors", "-d", json.dumps(records))
    assert status == 200, text
    assert json.loads(text)["predictions"][0] == "big"

    status, _, text = curl(server.url + "/v2/models/wine/versions/1", )
    assert status == 200 and json.loads(text)["versions"] == ["1"]


def test_mlflow_scoring_formats_and_probes(server):
    """What clients of `mlflow models serve` send: every input format gives the same
    predictions, and /ping, /health, /version answer as MLflow's scoring server does."""
    rows = [{"color": "red", "size": 5.0}, {"color": None, "size": 1.0},
            {"color": "green", "size": 9.5}]
    url = server.url + "/invocations?model=colors"
    expected = None
    bodies = [
        ("application/json", {"dataframe_records": rows}),
        ("application/json", {"dataframe_split": {"columns": ["size", "color"],
                                                  "data": [[r["size"], r["color"]] for r in rows]}}),
        ("application/json", {"instances": rows}),
        ("application/json", {"inputs": {"color": [r["color"] for r in rows],
                                         "size": [r["size"] for r in rows]}}),
        ("text/csv", "color,size\nred,5.0\n,1.0\ngreen,9.5\n"),
    ]
    for content_type, body in bodies:
        data = body if isinstance(body, str) else json.dumps(body)
        status, _, text = curl(url, "-H", f"Content-Type: {content_type}", "--data-binary", data)
        assert status == 200, (content_type, body, text)
        predictions = json.loads(text)["predictions"]
        assert len(predictions) == 3 and set(predictions) <= {"big", "small"}
        expected = expected or predictions
        assert predictions == expected, body
    for path in ("/ping", "/health"):
        status, _, _ = curl(server.url + path)
        assert status == 200
    status, _, text = curl(server.url + "/version")
    assert status == 200 and text.strip() == tabula_version()
    status, _, text = curl(url, "-H", "Content-Type: text/csv", "--data-binary", "size\n1\n")
    assert status == 400 and "color" in json.loads(text)["error"]


def tabula_version():
    cmake = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(tabula VERSION ([0-9.]+)", cmake).group(1)


@pytest.mark.parametrize("path,body,expected", [
    ("/v2/models/wine/infer", "{not json", 400),
    ("/v2/models/wine/infer", '{"inputs": []}', 400),
    ("/v2/models/nope/infer", '{"inputs": []}', 404),
    ("/v2/models/wine/versions/9/infer",
     '{"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 13], "data": [0,0,0,0,0,0,0,0,0,0,0,0,0]}]}', 404),
    ("/v2/models/wine/infer",
     '{"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 12], "data": [0,0,0,0,0,0,0,0,0,0,0,0]}]}', 400),
    ("/v2/models/wine/infer",
     '{"inputs": [{"name": "alcohol", "datatype": "FP64", "shape": [1], "data": [1]}]}', 400),
    ("/v2/models/colors/infer",
     '{"inputs": [{"name": "color", "datatype": "FP64", "shape": [1], "data": [1]},'
     ' {"name": "size", "datatype": "FP64", "shape": [1], "data": [1]}]}', 400),
    ("/v2/models/wine/infer",
     '{"inputs": [{"name": "x", "datatype": "FP64", "shape": [501, 13], "data": [' + ",".join(["0"] * 6513) + "]}]}", 413),
    ("/invocations", '{"dataframe_records": []}', 400),
    ("/invocations?model=colors", '{"dataframe_records": [{"size": 1}]}', 400),
    ("/v2/nothing/here", "{}", 404),
])
def test_invalid_requests_are_client_errors(server, path, body, expected):
    status, headers, text = curl(server.url + path, "-d", body)
    assert status == expected, text
    assert "error" in json.loads(text)


def test_body_limit_and_server_survives(server):
    big = json.dumps({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 13],
                                  "data": [0] * 13}], "pad": "x" * 300000})
    status, _, _ = server.request("POST", "/v2/models/wine/infer", big.encode())
    assert status == 413
    assert server.request("GET", "/v2/health/live")[0] == 200


def test_concurrent_requests_are_batched_and_answered_exactly(server):
    rng = np.random.default_rng(11)
    rows = rng.normal(0, 0.05, size=(32, 10))

    def one(r):
        body = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 10], "data": list(r)}]}
        status, _, out = server.request("POST", "/v2/models/diabetes/infer", body)
        assert status == 200, out
        return out["outputs"][0]["data"][0]

    singles = [one(r) for r in rows[:4]]
    batches_before = server.metric('tabula_batch_rows_count{model="diabetes",version="1"}')
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        together = list(pool.map(one, rows))
    batches = server.metric('tabula_batch_rows_count{model="diabetes",version="1"}') - batches_before
    assert together[:4] == singles
    assert 1 <= batches < len(rows)
    # The batch answer for each row equals the answer for that row alone.
    for r, value in zip(rows[4:8], together[4:8]):
        assert one(r) == value


def test_metrics_text(server):
    text = server.metrics()
    assert '# TYPE tabula_requests_total counter' in text
    assert 'tabula_requests_total{model="wine",version="1",status="200"}' in text
    assert 'tabula_requests_total{model="wine",version="",status="404"}' in text or \
        'tabula_requests_total{model="wine",version="1",status="404"}' in text
    assert 'tabula_request_duration_seconds_bucket{model="wine",le="+Inf"}' in text
    assert 'tabula_predicted_class_total{model="colors",version="7",class="big"}' in text
    assert 'tabula_predicted_value_count{model="diabetes",version="1"}' in text
    assert 'tabula_queue_rows{model="diabetes",version="1"} 0' in text
    assert 'tabula_model_loaded{model="wine",version="1"} 1' in text
    assert server.metric('tabula_rows_scored_total{model="diabetes",version="1"}') >= 32


def test_bearer_token(tabula_bin, repo, tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    s = Server(tabula_bin, repo, "--auth-token-file", token, log_dir=tmp_path)
    try:
        body = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 10], "data": [0] * 10}]}
        assert s.request("POST", "/v2/models/diabetes/infer", body)[0] == 401
        assert s.request("GET", "/metrics", headers={"Authorization": "Bearer nope"})[0] == 401
        ok = s.request("POST", "/v2/models/diabetes/infer", body,
                       headers={"Authorization": "Bearer s3cret"})
        assert ok[0] == 200
        assert s.request("GET", "/v2/health/ready")[0] == 200
    finally:
        assert s.stop() == 0


def test_model_with_an_id_column(tabula_bin, run_tabula, data_dir, tmp_path):
    """`train --id`: the metadata names the id column, and a request that sends it (as a client
    sends whole rows) is answered as `tabula predict` answers the same rows."""
    repo = tmp_path / "repo"
    model = repo / "titanic" / "1" / "model.tabula"
    model.parent.mkdir(parents=True)
    run_tabula("train", "--data", data_dir / "titanic.csv", "--target", "survived", "--model",
               "forest", "--id", "name", "--param", "n_estimators=5", "--out", model)
    header, rows = read_csv(data_dir / "titanic.csv")
    rows = rows[:4]
    sample = tmp_path / "rows.csv"
    with open(sample, "w", newline="") as f:
        csv.writer(f).writerows([header] + rows)
    out = tmp_path / "pred.csv"
    run_tabula("predict", "--model", model, "--data", sample, "--out", out)
    expected_header, expected = read_csv(out)
    assert expected_header == ["name", "prediction"]
    server = Server(tabula_bin, repo)
    try:
        status, _, meta = server.request("GET", "/v2/models/titanic")
        assert status == 200 and meta["parameters"]["id_column"] == "name", meta
        assert "name" not in [i["name"] for i in meta["inputs"]]
        # Names everywhere: the derived features and the forest's importances over them.
        names = meta["parameters"]["feature_names_out"]
        assert "sex=male" in names and "name" not in names, names
        ranked = meta["parameters"]["top_features"]["feature_importances_"]
        assert ranked["n_features"] == len(names)
        assert {t["feature"] for t in ranked["top"]} <= set(names)
        sizes = [t["value"] for t in ranked["top"]]
        assert sizes == sorted(sizes, reverse=True) and sizes[0] > 0
        records = [{h: (None if v == "" else float(v) if h == "age" else v)
                    for h, v in zip(header, r)} for r in rows]
        status, _, body = server.request("POST", "/invocations?model=titanic",
                                         {"dataframe_records": records})
        assert status == 200, body
        assert body["predictions"] == [r[1] for r in expected]

        # The v2 protocol echoes the id column beside the predictions, as `predict --id` does.
        def tensor(name, datatype):
            values = [r[name] for r in records]
            return {"name": name, "datatype": datatype, "shape": [len(values)], "data": values}
        inputs = [tensor(i["name"], i["datatype"]) for i in meta["inputs"]]
        inputs.append(tensor("name", "BYTES"))
        status, _, body = server.request("POST", "/v2/models/titanic/infer", {"inputs": inputs})
        assert status == 200, body
        outputs = {o["name"]: o for o in body["outputs"]}
        assert [str(v) for v in outputs["predict"]["data"]] == [r[1] for r in expected]
        assert outputs["name"]["data"] == [r[0] for r in expected]
        assert outputs["name"]["datatype"] == "BYTES" and outputs["name"]["shape"] == [4]
        status, _, body = server.request("POST", "/v2/models/titanic/infer",
                                         {"inputs": inputs, "outputs": [{"name": "name"}]})
        assert status == 200 and [o["name"] for o in body["outputs"]] == ["name"], body
        # Asking for the echo without sending the column is the client's mistake, said so.
        status, _, body = server.request("POST", "/v2/models/titanic/infer",
                                         {"inputs": inputs[:-1], "outputs": [{"name": "name"}]})
        assert status == 400 and "does not carry" in body["error"], body
        status, _, body = server.request("POST", "/v2/models/titanic/infer", {"inputs": inputs[:-1]})
        assert status == 200 and "name" not in [o["name"] for o in body["outputs"]], body
    finally:
        assert server.stop() == 0
