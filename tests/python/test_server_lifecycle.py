"""`tabula serve` over time: hot reload by polling and by the repository API, corrupt versions
refused while the old one keeps serving, A/B splits with sticky keys, and SIGTERM draining the
requests in flight."""
import shutil
import signal
import threading
import time

import pytest

from test_server_harness import Server, train

DIABETES_ROW = [0.03, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, 0, 0.01, -0.01]
BODY = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 10], "data": DIABETES_ROW}]}


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory, run_tabula, data_dir):
    """Two different regressors on the same columns, and a damaged file."""
    root = tmp_path_factory.mktemp("artifacts")
    ridge = train(run_tabula, data_dir / "diabetes.csv", "target", "ridge", root / "ridge.tabula")
    # diabetes' target is whole numbers (151.0, ...): a class label to type_of_target.
    mean = train(run_tabula, data_dir / "diabetes.csv", "target", "dummy", root / "mean.tabula",
                 task="regression")
    corrupt = root / "corrupt.tabula"
    data = bytearray(ridge.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    return {"ridge": ridge, "mean": mean, "corrupt": corrupt}


def place(repo, model, version, artifact):
    target = repo / model / str(version)
    target.mkdir(parents=True, exist_ok=True)
    # Copy then rename, as a deployment would, so a poll never sees half a file.
    tmp = target / "model.tabula.part"
    shutil.copyfile(artifact, tmp)
    tmp.rename(target / "model.tabula")


def infer(server, path="/v2/models/m/infer", headers=None):
    status, hdrs, body = server.request("POST", path, BODY, headers=headers)
    assert status == 200, body
    assert hdrs["x-model-version"] == body["model_version"]
    return body["model_version"], body["outputs"][0]["data"][0]


def wait_for(predicate, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_hot_reload_by_polling_and_corrupt_versions_are_refused(tabula_bin, artifacts, tmp_path):
    repo = tmp_path / "repo"
    place(repo, "m", 1, artifacts["ridge"])
    server = Server(tabula_bin, repo, "--poll-interval", 0.2, log_dir=tmp_path)
    try:
        version, ridge_value = infer(server)
        assert version == "1"

        place(repo, "m", 2, artifacts["mean"])
        assert wait_for(lambda: infer(server)[0] == "2"), server.log()
        mean_value = infer(server)[1]
        assert mean_value != pytest.approx(ridge_value)

        # A damaged newer version: refused, logged, counted; version 2 keeps serving.
        place(repo, "m", 3, artifacts["corrupt"])
        failures = 'tabula_reload_failures_total{model="m"}'
        assert wait_for(lambda: server.metric(failures) >= 1), server.log()
        assert infer(server) == ("2", mean_value)
        # The failure is counted once, not once per poll.
        time.sleep(0.6)
        assert server.metric(failures) == 1

        # The served version's file is overwritten with garbage: the copy in memory stays.
        shutil.rmtree(repo / "m" / "3")
        place(repo, "m", 2, artifacts["corrupt"])
        assert wait_for(lambda: server.metric(failures) >= 2), server.log()
        assert infer(server) == ("2", mean_value)
        assert "not served" in server.log()
    finally:
        assert server.stop() == 0


def test_repository_load_endpoint(tabula_bin, artifacts, tmp_path):
    repo = tmp_path / "repo"
    place(repo, "m", 1, artifacts["ridge"])
    server = Server(tabula_bin, repo, "--poll-interval", 0, log_dir=tmp_path)
    try:
        place(repo, "late", 4, artifacts["mean"])
        assert server.request("POST", "/v2/models/late/infer", BODY)[0] == 404
        status, _, body = server.request("POST", "/v2/repository/models/late/load", {})
        assert status == 200, body
        assert infer(server, "/v2/models/late/infer")[0] == "4"
        assert server.request("POST", "/v2/repository/models/ghost/load", {})[0] == 404
        place(repo, "broken", 1, artifacts["corrupt"])
        status, _, body = server.request("POST", "/v2/repository/models/broken/load", {})
        assert status == 400 and "version 1" in body["error"]
        index = server.request("POST", "/v2/repository/index", {})[2]
        assert {"name": "late", "version": "4", "state": "READY"} in index
        assert any(e["name"] == "broken" and e["state"] == "UNAVAILABLE" for e in index)
    finally:
        assert server.stop() == 0


def test_ab_split_sticky_keys_and_pinned_versions(tabula_bin, artifacts, tmp_path):
    repo = tmp_path / "repo"
    place(repo, "m", 1, artifacts["ridge"])
    place(repo, "m", 2, artifacts["mean"])
    (repo / "m" / "config.toml").write_text("versions = [1, 2]\n[traffic]\n1 = 50\n2 = 50\n")
    server = Server(tabula_bin, repo, "--poll-interval", 0, log_dir=tmp_path)
    try:
        seen = [infer(server)[0] for _ in range(60)]
        assert 10 <= seen.count("1") <= 50, seen
        # One key, one version, every time; different keys reach both.
        by_key = {}
        for k in range(20):
            key = {"x-ab-key": f"user-{k}"}
            versions = {infer(server, headers=key)[0] for _ in range(3)}
            assert len(versions) == 1
            by_key[k] = versions.pop()
        assert set(by_key.values()) == {"1", "2"}
        assert infer(server, "/v2/models/m/versions/1/infer")[0] == "1"
        assert infer(server, "/v2/models/m/versions/2/infer")[0] == "2"
        meta = server.request("GET", "/v2/models/m")[2]
        assert meta["versions"] == ["1", "2"]
        text = server.metrics()
        assert 'tabula_requests_total{model="m",version="1",status="200"}' in text
        assert 'tabula_requests_total{model="m",version="2",status="200"}' in text
    finally:
        assert server.stop() == 0


def test_sigterm_drains_requests_in_flight(tabula_bin, artifacts, tmp_path):
    repo = tmp_path / "repo"
    place(repo, "m", 1, artifacts["ridge"])
    # A lone request waits 1.5 s for company: long enough to signal the server meanwhile.
    (repo / "m" / "config.toml").write_text("[batching]\nmax_queue_delay_us = 1500000\n")
    server = Server(tabula_bin, repo, "--poll-interval", 0, log_dir=tmp_path)
    result = {}

    def slow():
        result["answer"] = server.request("POST", "/v2/models/m/infer", BODY)

    worker = threading.Thread(target=slow)
    worker.start()
    time.sleep(0.4)
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    # No new connections once stopping.
    with pytest.raises(OSError):
        server.request("GET", "/v2/health/live")
    worker.join(10)
    status, _, body = result["answer"]
    assert status == 200, body
    assert body["model_version"] == "1"
    assert server.proc.wait(10) == 0
    server.stop()
    assert "finishing requests in flight" in server.log()


def test_request_deadline_gives_504(tabula_bin, artifacts, tmp_path):
    repo = tmp_path / "repo"
    place(repo, "m", 1, artifacts["ridge"])
    (repo / "m" / "config.toml").write_text("[batching]\nmax_queue_delay_us = 1000000\n")
    server = Server(tabula_bin, repo, "--poll-interval", 0, "--request-timeout-ms", 150,
                    log_dir=tmp_path)
    try:
        start = time.time()
        status, _, body = server.request("POST", "/v2/models/m/infer", BODY)
        assert status == 504 and "error" in body
        assert time.time() - start < 0.9
        assert server.metric('tabula_requests_total{model="m",version="1",status="504"}') == 1
    finally:
        assert server.stop() == 0
