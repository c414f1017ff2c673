"""`tabula serve --grpc-port`: the Open Inference Protocol over gRPC, driven by tritonclient.grpc
and by hand-built messages. For every model kind × task the registry lists (`tabula models`),
gRPC answers agree with REST's and with `tabula predict`, with raw and with typed tensor
contents; metadata, the repository extension (index, load, unload, also under load) and the
statistics extension over both protocols; malformed requests get the status naming the field and
the server keeps serving."""
import concurrent.futures
import struct
import threading
import time

import grpc
import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException

from test_round_trip import cli_outputs, infer_body, read_rows, train_every_kind
from test_server_harness import Server, free_port, train

SHAPES = ["numeric", "missing"]  # "missing" holds every column kind: numbers, text, dates, gaps
TEXT_COLUMNS = ("color", "when")
DIABETES_ROW = [0.03, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, 0, 0.01, -0.01]


def grpc_server(binary, repo, *args, log_dir=None):
    port = free_port()
    server = Server(binary, repo, "--grpc-port", port, *args, log_dir=log_dir)
    server.grpc_url = f"127.0.0.1:{port}"
    return server


@pytest.fixture(scope="module")
def trained(tmp_path_factory, run_tabula, data_dir):
    """One model per registered kind × task × shape, in one repository, plus a regressor `d`."""
    repo, cases = train_every_kind(run_tabula, tmp_path_factory.mktemp("grpc"), SHAPES, n=24)
    train(run_tabula, data_dir / "diabetes.csv", "target", "ridge", repo / "d" / "1" / "model.tabula")
    return repo, cases


@pytest.fixture(scope="module")
def server(trained, tabula_bin, tmp_path_factory):
    repo, _ = trained
    s = grpc_server(tabula_bin, repo, "--max-rows", 1000, "--poll-interval", 0,
                    log_dir=tmp_path_factory.mktemp("grpc-log"))
    yield s
    assert s.stop() == 0, s.log()


@pytest.fixture(scope="module")
def client(server):
    return grpcclient.InferenceServerClient(server.grpc_url)


@pytest.fixture(scope="module")
def stub(server):
    channel = grpc.insecure_channel(server.grpc_url)
    yield service_pb2_grpc.GRPCInferenceServiceStub(channel)
    channel.close()


def columns(data, header):
    """{column: numpy array} of a case's table: text columns as bytes (b"" where missing),
    numbers as float64 (NaN where missing)."""
    _, rows = read_rows(data)
    out = {}
    for j, name in enumerate(header):
        if name == "y":
            continue
        cells = [r[j] for r in rows]
        if name in TEXT_COLUMNS:
            out[name] = np.array([c.encode() for c in cells], dtype=object)
        else:
            out[name] = np.array([float(c) if c else np.nan for c in cells])
    return out


def outputs_of(task):
    return {"transform": ["transform"], "clustering": ["predict", "transform"],
            "classification": ["predict", "probabilities"], "regression": ["predict"]}[task]


def triton_infer(client, name, cols, task):
    inputs = []
    for column, values in cols.items():
        t = grpcclient.InferInput(column, [len(values)], "BYTES" if values.dtype == object else "FP64")
        t.set_data_from_numpy(values)
        inputs.append(t)
    result = client.infer(name, inputs, outputs=[grpcclient.InferRequestedOutput(o)
                                                 for o in outputs_of(task)])
    return {o: result.as_numpy(o) for o in outputs_of(task)}


def typed_infer(stub, name, cols):
    """The same request with typed contents (fp64_contents, bytes_contents) instead of raw."""
    request = service_pb2.ModelInferRequest(model_name=name, id="typed")
    for column, values in cols.items():
        t = request.inputs.add(name=column, shape=[len(values)])
        if values.dtype == object:
            t.datatype = "BYTES"
            t.contents.bytes_contents.extend(values.tolist())
        else:
            t.datatype = "FP64"
            t.contents.fp64_contents.extend(values.tolist())
    response = stub.ModelInfer(request)
    assert response.id == "typed" and not response.raw_output_contents
    out = {}
    for o in response.outputs:
        c = o.contents
        values = (list(c.fp64_contents) or list(c.int64_contents)
                  or [v.decode() for v in c.bytes_contents])
        out[o.name] = (o.datatype, list(o.shape), values)
    return out


def test_every_kind_agrees_with_rest_and_predict(trained, server, client, stub, run_tabula,
                                                 tmp_path):
    _, cases = trained
    for name, (kind, task, shape, data, model, header) in cases.items():
        cols = columns(data, header)
        raw = triton_infer(client, name, cols, task)
        typed = typed_infer(stub, name, cols)
        status, _, rest = server.request("POST", f"/v2/models/{name}/infer", infer_body(data, header))
        assert status == 200, (name, rest)
        rest = {o["name"]: o for o in rest["outputs"]}
        assert set(rest) == set(typed) == set(raw), name
        cli = cli_outputs(run_tabula, task, model, data, tmp_path / name)
        for output, r in rest.items():
            datatype, shape_, values = typed[output]
            assert (datatype, shape_) == (r["datatype"], r["shape"]), (name, output)
            flat = np.ravel(r["data"]).tolist()
            assert values == flat, (name, output)
            got_raw = raw[output].ravel().tolist()
            if datatype == "BYTES":
                got_raw = [v.decode() for v in got_raw]
            assert got_raw == flat, (name, output)
            assert list(raw[output].shape) == r["shape"], (name, output)
        if task in ("regression", "classification", "clustering"):
            want = cli["prediction"]
            got = typed["predict"][2]
            if task == "regression":
                assert got == [float(v) for v in want], name
            else:
                assert [str(v) for v in got] == want, name


def test_metadata_matches_rest(trained, server, client):
    _, cases = trained
    meta = client.get_server_metadata()
    assert meta.name == "tabula" and "statistics" in meta.extensions
    assert client.is_server_live() and client.is_server_ready()
    for name in list(cases)[:6] + ["d"]:
        got = client.get_model_metadata(name, as_json=True)
        _, _, rest = server.request("GET", f"/v2/models/{name}")
        assert got["name"] == rest["name"] and got["versions"] == rest["versions"]
        assert got["platform"] == rest["platform"]
        for kind in ("inputs", "outputs"):
            assert [(t["name"], t["datatype"], [int(d) for d in t["shape"]])
                    for t in got[kind]] == \
                   [(t["name"], t["datatype"], t["shape"]) for t in rest[kind]], (name, kind)
        assert client.is_model_ready(name) and client.is_model_ready(name, "1")
    assert not client.is_model_ready("d", "9") and not client.is_model_ready("nope")
    with pytest.raises(InferenceServerException, match="no model 'nope'"):
        client.get_model_metadata("nope")


def d_input(rows=1):
    x = grpcclient.InferInput("x", [rows, 10], "FP64")
    x.set_data_from_numpy(np.array([DIABETES_ROW] * rows))
    return x


def stats_of(client, name):
    stats = client.get_inference_statistics(name, as_json=True)["model_stats"]
    assert len(stats) == 1
    s = stats[0]
    get = lambda k: int(s["inference_stats"].get(k, {}).get("count", 0))  # noqa: E731
    return {"success": get("success"), "fail": get("fail"), "queue": get("queue"),
            "compute_infer": get("compute_infer"),
            "inference_count": int(s.get("inference_count", 0)),
            "execution_count": int(s.get("execution_count", 0)),
            "last_inference": int(s.get("last_inference", 0))}


def test_statistics_count_both_protocols(server, client):
    before = stats_of(client, "d")
    for rows in (1, 3, 5):
        client.infer("d", [d_input(rows)])
    body = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [2, 10],
                        "data": DIABETES_ROW * 2}]}
    assert server.request("POST", "/v2/models/d/infer", body)[0] == 200
    with pytest.raises(InferenceServerException):
        bad = grpcclient.InferInput("x", [1, 9], "FP64")
        bad.set_data_from_numpy(np.zeros((1, 9)))
        client.infer("d", [bad])
    after = stats_of(client, "d")
    assert after["success"] - before["success"] == 4
    assert after["inference_count"] - before["inference_count"] == 1 + 3 + 5 + 2
    assert after["fail"] - before["fail"] == 1
    assert after["queue"] - before["queue"] == 4
    assert after["compute_infer"] - before["compute_infer"] == 4
    assert 1 <= after["execution_count"] - before["execution_count"] <= 4
    assert after["last_inference"] >= max(before["last_inference"], 1)

    # REST answers the same figures in Triton's JSON shape.
    status, _, rest = server.request("GET", "/v2/models/d/stats")
    assert status == 200
    (entry,) = rest["model_stats"]
    assert entry["name"] == "d" and entry["version"] == "1"
    assert entry["inference_stats"]["success"]["count"] == after["success"]
    assert entry["inference_count"] == after["inference_count"]
    for key in ("success", "fail", "queue", "compute_input", "compute_infer", "compute_output"):
        assert set(entry["inference_stats"][key]) == {"count", "ns"}, key
    assert entry["inference_stats"]["success"]["ns"] > 0
    assert all(b["batch_size"] >= 1 for b in entry["batch_stats"])
    status, _, one = server.request("GET", "/v2/models/d/versions/1/stats")
    assert status == 200 and one["model_stats"][0]["inference_count"] == after["inference_count"]
    status, _, everything = server.request("GET", "/v2/models/stats")
    assert status == 200 and "d" in {m["name"] for m in everything["model_stats"]}
    assert server.request("GET", "/v2/models/d/versions/9/stats")[0] == 404
    assert server.request("GET", "/v2/models/nope/stats")[0] == 404
    with pytest.raises(InferenceServerException, match="no model"):
        client.get_inference_statistics("nope")


def test_repository_index_load_unload(server, client):
    index = client.get_model_repository_index(as_json=True)["models"]
    assert {"name": "d", "version": "1", "state": "READY"} in index
    client.unload_model("d")
    assert not client.is_model_ready("d")
    with pytest.raises(InferenceServerException, match="StatusCode.NOT_FOUND"):
        client.infer("d", [d_input()])
    assert server.request("POST", "/v2/models/d/infer", {"inputs": []})[0] == 404
    row = [m for m in client.get_model_repository_index(as_json=True)["models"] if m["name"] == "d"]
    assert row == [{"name": "d", "state": "UNAVAILABLE", "reason": "unloaded"}]
    status, _, rest_ready = server.request("POST", "/v2/repository/index", {"ready": True})
    assert status == 200 and all(m["state"] == "READY" for m in rest_ready)
    assert "d" not in {m["name"] for m in rest_ready}
    client.load_model("d")
    assert client.is_model_ready("d")
    assert client.infer("d", [d_input()]).as_numpy("predict").shape == (1,)
    # The same over REST.
    assert server.request("POST", "/v2/repository/models/d/unload")[0] == 200
    assert server.request("GET", "/v2/models/d/ready")[0] == 404
    assert server.request("POST", "/v2/repository/models/d/load")[0] == 200
    assert server.request("GET", "/v2/models/d/ready")[0] == 200
    assert server.request("POST", "/v2/repository/models/nope/unload")[0] == 404
    with pytest.raises(InferenceServerException, match="StatusCode.NOT_FOUND"):
        client.unload_model("nope")
    with pytest.raises(InferenceServerException, match="StatusCode.INVALID_ARGUMENT"):
        client.load_model("d", config='{"max_batch_size": 4}')


def test_unload_under_load_is_safe(server, client):
    """Clients keep sending over both protocols while the model is unloaded and loaded again:
    every answer is a success or a not-found, never a failure of the server."""
    stop = threading.Event()
    outcomes = {"ok": 0, "not_found": 0, "other": []}
    lock = threading.Lock()
    body = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 10], "data": DIABETES_ROW}]}

    def grpc_client():
        c = grpcclient.InferenceServerClient(server.grpc_url)
        while not stop.is_set():
            try:
                c.infer("d", [d_input(4)])
                kind = "ok"
            except InferenceServerException as e:
                kind = "not_found" if "NOT_FOUND" in str(e.status()) else str(e)
            record(kind)

    def rest_client():
        while not stop.is_set():
            status = server.request("POST", "/v2/models/d/infer", body)[0]
            record({200: "ok", 404: "not_found"}.get(status, f"HTTP {status}"))

    def record(kind):
        with lock:
            if kind in ("ok", "not_found"):
                outcomes[kind] += 1
            else:
                outcomes["other"].append(kind)

    threads = [threading.Thread(target=f) for f in (grpc_client,) * 4 + (rest_client,) * 2]
    for t in threads:
        t.start()
    try:
        for _ in range(15):
            client.unload_model("d")
            time.sleep(0.02)
            client.load_model("d")
            time.sleep(0.02)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert outcomes["other"] == [], outcomes["other"][:5]
    assert outcomes["ok"] > 0 and outcomes["not_found"] > 0, outcomes
    assert client.is_model_ready("d") and server.proc.poll() is None


def raw_request(model="d", shape=(1, 10), datatype="FP64", raw=None, **fields):
    request = service_pb2.ModelInferRequest(model_name=model, **fields)
    request.inputs.add(name="x", datatype=datatype, shape=list(shape))
    request.raw_input_contents.append(raw if raw is not None else
                                      struct.pack("<10d", *DIABETES_ROW))
    return request


def typed_request(name="x", datatype="FP64", shape=(1, 10), **contents):
    request = service_pb2.ModelInferRequest(model_name="d")
    t = request.inputs.add(name=name, datatype=datatype, shape=list(shape))
    for field, values in (contents or {"fp64_contents": DIABETES_ROW}).items():
        getattr(t.contents, field).extend(values)
    return request


def with_output(request, name):
    request.outputs.add(name=name)
    return request


def two_raw_entries():
    r = raw_request()
    r.raw_input_contents.append(b"")
    return r


def both_raw_and_typed():
    r = raw_request()
    r.inputs[0].contents.fp64_contents.extend(DIABETES_ROW)
    return r


OK, INVALID, NOT_FOUND = grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, \
    grpc.StatusCode.NOT_FOUND
MALFORMED = [
    ("unknown model", lambda: raw_request(model="nope"), NOT_FOUND, "no model 'nope'"),
    ("unknown version", lambda: raw_request(model_version="9"), NOT_FOUND, "version '9'"),
    ("no model name", lambda: raw_request(model=""), INVALID, "model_name"),
    ("no inputs", lambda: service_pb2.ModelInferRequest(model_name="d"), INVALID, "inputs"),
    ("raw size vs shape", lambda: raw_request(raw=b"\0" * 79), INVALID, "raw_input_contents"),
    ("raw entries vs inputs", two_raw_entries, INVALID, "raw_input_contents has 2 entries"),
    ("raw and typed", both_raw_and_typed, INVALID, "both"),
    ("shape vs contents", lambda: typed_request(shape=(2, 10)), INVALID, "shape holds 20"),
    ("shape overflow", lambda: raw_request(shape=(1 << 40, 1 << 40)), INVALID, "shape dimensions"),
    ("shape product", lambda: raw_request(shape=(1 << 30, 1 << 30)), INVALID, "elements"),
    ("negative dimension", lambda: raw_request(shape=(-1, 10)), INVALID, "shape dimensions"),
    ("rank 0", lambda: raw_request(shape=()), INVALID, "shape"),
    ("rank 3", lambda: raw_request(shape=(1, 10, 1)), INVALID, "shape"),
    ("unknown datatype", lambda: raw_request(datatype="FP17"), INVALID, "datatype 'FP17'"),
    ("FP16", lambda: raw_request(datatype="FP16"), INVALID, "datatype 'FP16'"),
    ("no datatype", lambda: raw_request(datatype=""), INVALID, "datatype"),
    ("wrong contents field", lambda: typed_request(fp32_contents=DIABETES_ROW), INVALID,
     "field other than"),
    ("int8 out of range", lambda: typed_request(datatype="INT8", int_contents=[300] * 10),
     INVALID, "outside the range of INT8"),
    ("uint32 contents for INT32", lambda: typed_request(datatype="INT32", uint_contents=[1] * 10),
     INVALID, "field other than"),
    ("missing column", lambda: typed_request(name="age", shape=(1,), fp64_contents=[1.0]),
     INVALID, "missing input column"),
    ("no input name", lambda: typed_request(name=""), INVALID, "name"),
    ("unknown output", lambda: with_output(raw_request(), "probabilities"), INVALID,
     "has no output 'probabilities'"),
    ("truncated BYTES", lambda: raw_request(datatype="BYTES", shape=(1,), raw=b"\x05\0\0\0ab"),
     INVALID, "truncated BYTES"),
    ("too many rows", lambda: raw_request(shape=(1001, 10), raw=b"\0" * 80080),
     grpc.StatusCode.RESOURCE_EXHAUSTED, "at most 1000"),
    ("infinite value", lambda: typed_request(fp64_contents=[float("inf")] * 10), INVALID,
     "infinite"),
]


@pytest.mark.parametrize("case,make,code,text", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_requests_get_the_right_status(stub, client, case, make, code, text):
    with pytest.raises(grpc.RpcError) as error:
        stub.ModelInfer(make())
    assert error.value.code() == code, (case, error.value.details())
    assert text in error.value.details(), (case, error.value.details())
    assert client.infer("d", [d_input()]).as_numpy("predict").shape == (1,)


def test_typed_integer_and_bool_inputs(stub):
    ints = typed_request(datatype="INT64", int64_contents=[0] * 10)
    floats = typed_request(fp64_contents=[0.0] * 10)
    assert stub.ModelInfer(ints).outputs[0].contents.fp64_contents == \
        stub.ModelInfer(floats).outputs[0].contents.fp64_contents
    bools = typed_request(datatype="BOOL", bool_contents=[False] * 10)
    assert stub.ModelInfer(bools).outputs[0].contents.fp64_contents == \
        stub.ModelInfer(floats).outputs[0].contents.fp64_contents
    int32 = typed_request(datatype="INT32", int_contents=[0] * 10)
    assert stub.ModelInfer(int32).outputs[0].contents.fp64_contents == \
        stub.ModelInfer(floats).outputs[0].contents.fp64_contents


def test_bearer_token_and_sticky_key(tabula_bin, trained, tmp_path):
    repo, _ = trained
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    s = grpc_server(tabula_bin, repo, "--auth-token-file", token, "--poll-interval", 0,
                    log_dir=tmp_path)
    try:
        client = grpcclient.InferenceServerClient(s.grpc_url)
        assert client.is_server_live() and client.is_server_ready()  # health needs no token
        with pytest.raises(InferenceServerException, match="UNAUTHENTICATED"):
            client.infer("d", [d_input()])
        result = client.infer("d", [d_input()], headers={"authorization": "Bearer s3cret",
                                                         "x-ab-key": "client-7"})
        assert result.get_response().model_version == "1"
    finally:
        assert s.stop() == 0


def test_sigterm_drains_grpc_calls(tabula_bin, trained, tmp_path):
    """Calls in flight when SIGTERM arrives are answered before the server exits."""
    repo, _ = trained
    s = grpc_server(tabula_bin, repo, "--max-queue-delay-us", 200000, "--poll-interval", 0,
                    log_dir=tmp_path)
    client = grpcclient.InferenceServerClient(s.grpc_url)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(client.infer, "d", [d_input()]) for _ in range(4)]
        time.sleep(0.05)
        code = s.stop()
        results = [f.result() for f in futures]
    assert code == 0
    assert all(r.as_numpy("predict").shape == (1,) for r in results)
