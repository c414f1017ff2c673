"""Real nginx (Debian's, unprivileged, own prefix/pid/logs, a free loopback port) running the
shipped docker/nginx.conf (rendered for loopback by docker/local_stack.py) in front of two
`tabula serve` processes that share one model repository.

Checks: v2 infer and /invocations through nginx give the servers' own answers; both upstreams
take traffic (each server's /metrics, and nginx's access log); the private endpoints (/metrics,
/v2/repository) and oversized bodies are refused by nginx; and when one server is killed
(SIGKILL, requests in flight) every request keeps succeeding through the other.
"""
import pathlib
import sys
import threading
import time

import pandas as pd
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docker"))
import local_stack  # noqa: E402

MODEL = "breast_cancer"
DATA = ROOT / "data" / "breast_cancer.csv"

pytestmark = pytest.mark.skipif(local_stack.NGINX_BIN is None,
                                reason="nginx is not installed (Debian package nginx-light)")


@pytest.fixture(scope="module")
def serve_bin(tabula_bin):
    reason = local_stack.server_missing_reason(tabula_bin)
    if reason:
        pytest.skip(reason)
    return tabula_bin


@pytest.fixture(scope="module")
def repository(serve_bin, tmp_path_factory):
    repo = tmp_path_factory.mktemp("nginx-repo")
    local_stack.train_forest(serve_bin, DATA, "target", repo / MODEL / "1" / "model.tabula",
                             n_estimators=10)
    return repo


@pytest.fixture(scope="module")
def frame():
    return pd.read_csv(DATA).drop(columns=["target"])


def column_request(rows):
    """v2 infer body with one FP64 tensor per column, by name."""
    return {"id": "nginx-test",
            "inputs": [{"name": name, "datatype": "FP64", "shape": [len(rows)],
                        "data": rows[name].tolist()} for name in rows.columns]}


def start_stack(stack, serve_bin, repository, tmp_path):
    servers = [stack.enter_context(local_stack.tabula_server(
        serve_bin, repository, tmp_path / f"server{i}.log", args=["--poll-interval", "0"]))
        for i in (1, 2)]
    proxy = stack.enter_context(local_stack.nginx([s.port for s in servers]))
    return servers, proxy


@pytest.fixture(scope="module")
def stack(serve_bin, repository, tmp_path_factory):
    import contextlib
    with contextlib.ExitStack() as exits:
        yield start_stack(exits, serve_bin, repository, tmp_path_factory.mktemp("nginx-logs"))


def served_requests(server):
    """Requests the server answered 200 on the model's endpoints (its /metrics)."""
    return local_stack.metric_sum(server.metrics(), "tabula_requests_total", model=MODEL,
                                  status="200")


def test_v2_infer_through_nginx_matches_the_servers(stack, frame):
    servers, proxy = stack
    body = column_request(frame.iloc[:25])
    path = f"/v2/models/{MODEL}/infer"
    status, headers, proxied = local_stack.Client(proxy.port).json("POST", path, body)
    assert status == 200, proxied
    assert proxied["id"] == "nginx-test"
    assert headers.get("x-model-version") == "1"
    outputs = {o["name"]: o for o in proxied["outputs"]}
    assert outputs["predict"]["shape"] == [25]
    assert outputs["probabilities"]["shape"] == [25, 2]
    for server in servers:
        status, _, direct = local_stack.Client(server.port).json("POST", path, body)
        assert status == 200
        assert direct["outputs"] == proxied["outputs"]


def test_invocations_through_nginx(stack, frame):
    _, proxy = stack
    rows = frame.iloc[100:110]
    client = local_stack.Client(proxy.port)
    _, _, v2 = client.json("POST", f"/v2/models/{MODEL}/infer", column_request(rows))
    expected = next(o["data"] for o in v2["outputs"] if o["name"] == "predict")
    split = {"dataframe_split": {"columns": list(rows.columns), "data": rows.values.tolist()}}
    records = {"dataframe_records": rows.to_dict(orient="records")}
    for body in (split, records):
        status, _, answer = client.json("POST", "/invocations", body)
        assert status == 200, answer
        assert [float(p) for p in answer["predictions"]] == [float(p) for p in expected]


def test_both_upstreams_take_traffic(stack, frame):
    servers, proxy = stack
    before = [served_requests(s) for s in servers]
    client = local_stack.Client(proxy.port)
    body = column_request(frame.iloc[:1])
    sent = 40
    for _ in range(sent):
        status, _, answer = client.json("POST", f"/v2/models/{MODEL}/infer", body)
        assert status == 200, answer
    deltas = [served_requests(s) - b for s, b in zip(servers, before)]
    assert sum(deltas) == sent
    # Sequential requests leave both servers idle, so least_conn alternates between them.
    assert min(deltas) >= sent // 4, deltas
    log = proxy.access_log()
    for server in servers:
        assert f"upstream=127.0.0.1:{server.port}" in log


def test_private_endpoints_and_limits_refused_by_nginx(stack):
    servers, proxy = stack
    client = local_stack.Client(proxy.port)
    for path in ("/metrics", "//metrics", "/metrics/", "/%6Detrics"):
        status, headers, body = client.request("GET", path)
        assert status == 404, path
        assert headers["content-type"] == "application/json"
        assert b"error" in body
    status, _, _ = client.request("POST", f"/v2/repository/models/{MODEL}/load", b"{}")
    assert status == 403
    # Behind the proxy the servers still expose them.
    assert local_stack.get(servers[0].port, "/metrics")[0] == 200
    # Above client_max_body_size (16 MiB, the servers' --max-body-bytes): nginx answers 413.
    status, _, _ = client.request("POST", f"/v2/models/{MODEL}/infer", b" " * (17 << 20),
                                  {"Content-Type": "application/json"})
    assert status == 413
    assert local_stack.get(proxy.port, "/v2/health/ready")[0] == 200


def test_killing_one_server_keeps_requests_succeeding(serve_bin, repository, frame, tmp_path):
    import contextlib
    with contextlib.ExitStack() as exits:
        servers, proxy = start_stack(exits, serve_bin, repository, tmp_path)
        body = column_request(frame.iloc[:3])
        path = f"/v2/models/{MODEL}/infer"
        statuses, stop = [], threading.Event()

        def drive():
            client = local_stack.Client(proxy.port, timeout=10)
            while not stop.is_set():
                try:
                    statuses.append(client.json("POST", path, body)[0])
                except Exception as error:  # a failed request is a result, not a crash
                    statuses.append(repr(error))

        threads = [threading.Thread(target=drive) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(1.0)
            before_kill = len(statuses)
            servers[1].process.kill()  # a crash: no draining, connections reset mid-request
            servers[1].process.wait()
            time.sleep(2.0)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        survivor_after = served_requests(servers[0])
        failures = [s for s in statuses if s != 200]
        assert before_kill > 0 and len(statuses) > before_kill + 20
        assert failures == [], f"{len(failures)} of {len(statuses)} failed: {failures[:5]}"
        # The survivor answered at least every request sent after the kill.
        assert survivor_after >= len(statuses) - before_kill
