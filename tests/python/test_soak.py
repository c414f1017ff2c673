"""Bounded soak of `tabula serve` on loopback: a few client threads send a mix of valid and
invalid requests for TABULA_SOAK_SECONDS (default 45; it stops by itself), while a new model
version folder appears in the middle (hot reload) and, later, a corrupt one (refused).

Asserts:
- zero errors on valid requests: every one answers 200, and every answer for the same body from
  the same model version is identical (micro-batching under concurrency splits results back to
  the right request), before, during and after the reload;
- the reload happens: answers switch to version 2, and the corrupt version 3 is counted in
  tabula_reload_failures_total while version 2 keeps answering;
- every invalid request (13 kinds: malformed JSON, wrong shapes and types, unknown model, version
  or column, too many rows, too large a body, ...) is answered with a 4xx status and a JSON error
  body; none gets a 5xx, a reset connection or no answer;
- resident memory is flat: the median VmRSS of the last window is at most 5% + 4 MiB above the
  median of the first window (a window is a fifth of the run, at most a minute; the first starts
  after a warm-up of a tenth of the run, at most 10 s, that has sent every kind of request).
  Why that tolerance: the second model version and allocator arenas add well under 1 MiB once
  (measured: 25.4 -> 26.1 MiB over 45 s and 80,000 requests on the 2-core dev VM), while the
  threads send about 1,500 valid requests/s, so a leak of 64 bytes per request already fails the
  default run (~5 MiB between the windows); longer runs catch proportionally smaller leaks.

Long soak (e.g. before a release): TABULA_SOAK_SECONDS=3600 (windows of one minute).
"""
import contextlib
import json
import os
import pathlib
import statistics
import sys
import threading
import time

import pandas as pd
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docker"))
import local_stack  # noqa: E402

MODEL = "soak"
DATA = ROOT / "data" / "breast_cancer.csv"
SECONDS = float(os.environ.get("TABULA_SOAK_SECONDS", "45"))
MAX_ROWS = 200
MAX_BODY = 256 * 1024
VALID_THREADS = 3
RSS_RELATIVE, RSS_ABSOLUTE_KIB = 0.05, 4 * 1024


@pytest.fixture(scope="module")
def serve_bin(tabula_bin):
    reason = local_stack.server_missing_reason(tabula_bin)
    if reason:
        pytest.skip(reason)
    return tabula_bin


def columns_body(rows):
    return {"inputs": [{"name": name, "datatype": "FP64", "shape": [len(rows)],
                        "data": rows[name].tolist()} for name in rows.columns]}


def tensor_body(rows, width=None, shape=None):
    width = width or rows.shape[1]
    data = rows.iloc[:, :width].to_numpy().ravel().tolist()
    return {"inputs": [{"name": "input", "datatype": "FP64",
                        "shape": shape or [len(rows), width], "data": data}]}


def valid_requests(frame):
    """(name, method, path, body) that must answer 200; the same body gives the same answer."""
    infer = f"/v2/models/{MODEL}/infer"
    rows = frame.iloc[:37]
    return [
        ("v2 one row by column", "POST", infer, columns_body(frame.iloc[[5]])),
        ("v2 37 rows by column", "POST", infer, columns_body(rows)),
        ("v2 one row tensor", "POST", infer, tensor_body(frame.iloc[[7]])),
        ("v2 37 rows tensor", "POST", infer, tensor_body(rows)),
        ("v2 FP32 tensor", "POST", infer,
         {"inputs": [{"name": "input", "datatype": "FP32", "shape": [2, frame.shape[1]],
                      "data": frame.iloc[10:12].to_numpy().ravel().tolist()}]}),
        ("mlflow split", "POST", "/invocations",
         {"dataframe_split": {"columns": list(rows.columns), "data": rows.values.tolist()}}),
        ("mlflow records", "POST", "/invocations",
         {"dataframe_records": frame.iloc[40:45].to_dict(orient="records")}),
        ("metadata", "GET", f"/v2/models/{MODEL}", None),
        ("model ready", "GET", f"/v2/models/{MODEL}/ready", None),
        ("server ready", "GET", "/v2/health/ready", None),
    ]


def invalid_requests(frame):
    """(name, method, path, body bytes) that must answer 4xx with an error body."""
    infer = f"/v2/models/{MODEL}/infer"
    one = frame.iloc[[0]]
    d = frame.shape[1]
    many = pd.concat([frame] * 2).iloc[:MAX_ROWS + 1]
    huge = tensor_body(pd.concat([frame] * 3))  # ~1,700 rows x 30 values: > MAX_BODY bytes
    bad_type = columns_body(one)
    bad_type["inputs"][0]["datatype"] = "FP99"
    text_data = columns_body(one)
    text_data["inputs"][0]["data"] = ["abc"]
    cases = [
        ("malformed json", "POST", infer, b'{"inputs": [{"name": '),
        ("not an object", "POST", infer, b"[1, 2, 3]"),
        ("empty body", "POST", infer, b""),
        ("unknown model", "POST", "/v2/models/no_such_model/infer", columns_body(one)),
        ("unknown version", "POST", f"/v2/models/{MODEL}/versions/99/infer", columns_body(one)),
        ("missing column", "POST", infer, columns_body(one.iloc[:, 1:])),
        ("2-D width", "POST", infer, tensor_body(one, width=d - 1)),
        ("shape vs data", "POST", infer, tensor_body(one, shape=[2, d])),
        ("bad datatype", "POST", infer, bad_type),
        ("text in FP64", "POST", infer, text_data),
        ("too many rows", "POST", infer, tensor_body(many)),
        ("body too large", "POST", infer, huge),
        ("mlflow no frame", "POST", "/invocations", {"columns": ["a"]}),
    ]
    out = []
    for name, method, path, body in cases:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        out.append((name, method, path, raw))
    assert len(out[-2][3]) > MAX_BODY and len(json.dumps(tensor_body(many))) < MAX_BODY
    return out


def write_version(repo, version, artifact_bytes):
    """A version folder appears whole (rename), as a deployment tool would publish it."""
    staging = repo.parent / f"staging-{version}"  # outside the scanned folder, same file system
    staging.mkdir()
    (staging / "model.tabula").write_bytes(artifact_bytes)
    staging.rename(repo / MODEL / str(version))


def test_soak(serve_bin, tmp_path):
    frame = pd.read_csv(DATA).drop(columns=["target"])
    repo = tmp_path / "repo"
    local_stack.train_forest(serve_bin, DATA, "target", repo / MODEL / "1" / "model.tabula",
                             n_estimators=20, seed=1)
    v2 = local_stack.train_forest(serve_bin, DATA, "target", tmp_path / "v2.tabula",
                                  n_estimators=30, seed=2).read_bytes()
    corrupt = bytearray(v2)
    corrupt[len(corrupt) // 2] ^= 0xFF  # one flipped byte: the checksum must catch it

    valid = valid_requests(frame)
    invalid = invalid_requests(frame)
    answers = {}  # (request name, version) -> body of the first answer
    valid_errors, invalid_errors, counts = [], [], {"valid": 0, "invalid": 0}
    invalid_seen, versions_seen = set(), set()
    lock, stop = threading.Lock(), threading.Event()

    def valid_client(offset):
        client = local_stack.Client(server.port, timeout=20)
        i = offset
        while not stop.is_set():
            name, method, path, body = valid[i % len(valid)]
            i += 1
            try:
                status, headers, data = client.request(method, path, body and json.dumps(body),
                                                       {"Content-Type": "application/json"})
            except Exception as error:
                with lock:
                    valid_errors.append((name, repr(error)))
                continue
            with lock:
                counts["valid"] += 1
                if status != 200:
                    valid_errors.append((name, status, data[:200]))
                    continue
                if method == "POST":
                    version = headers.get("x-model-version")
                    versions_seen.add(version)
                    answer = json.loads(data)
                    answer.pop("id", None)
                    first = answers.setdefault((name, version), answer)
                    if answer != first:
                        valid_errors.append((name, "answer differs from the first", version))

    def invalid_client():
        i = 0
        while not stop.is_set():
            name, method, path, body = invalid[i % len(invalid)]
            i += 1
            # A fresh connection each time: a server may close one after refusing a request.
            client = local_stack.Client(server.port, timeout=20)
            try:
                status, headers, data = client.request(method, path, body,
                                                       {"Content-Type": "application/json"})
                ok = 400 <= status < 500 and "error" in json.loads(data)
                outcome = status
            except Exception as error:
                ok, outcome = False, repr(error)
            finally:
                client.close()
            with lock:
                counts["invalid"] += 1
                invalid_seen.add(name)
                if not ok:
                    invalid_errors.append((name, outcome))
            time.sleep(0.01)

    args = ["--poll-interval", "0.5", "--max-rows", MAX_ROWS, "--max-body-bytes", MAX_BODY]
    log = tmp_path / "server.log"
    with contextlib.ExitStack() as exits:
        server = exits.enter_context(local_stack.tabula_server(serve_bin, repo, log, args=args))
        threads = [threading.Thread(target=valid_client, args=(k * 3,))
                   for k in range(VALID_THREADS)]
        threads.append(threading.Thread(target=invalid_client))
        start = time.monotonic()
        for thread in threads:
            thread.start()
        window = min(60.0, SECONDS / 5)
        warmup = min(10.0, SECONDS / 10)
        rss = []  # (seconds since start, KiB)
        reloaded = corrupted = False
        try:
            while (elapsed := time.monotonic() - start) < SECONDS:
                rss.append((elapsed, local_stack.vm_rss_kib(server.pid)))
                if not reloaded and elapsed >= SECONDS / 2:
                    write_version(repo, 2, v2)
                    reloaded = True
                if not corrupted and elapsed >= SECONDS * 0.7:
                    write_version(repo, 3, bytes(corrupt))
                    corrupted = True
                time.sleep(0.5)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        metrics = server.metrics()
        final_status, final_headers, _ = local_stack.Client(server.port).request(
            "POST", f"/v2/models/{MODEL}/infer", json.dumps(valid[0][3]))
        assert server.process.poll() is None, local_stack.log_tail(log)
        assert local_stack.stop_process(server.process) == 0, "SIGTERM did not exit 0"

    # Memory flat between the first window (after the warm-up) and the last.
    first = [kib for t, kib in rss if warmup <= t < warmup + window]
    last = [kib for t, kib in rss if t >= SECONDS - window]
    assert first and last
    before, after = statistics.median(first), statistics.median(last)
    print(f"soak: {SECONDS:g} s, {counts['valid']} valid and {counts['invalid']} invalid requests, "
          f"versions {sorted(map(str, versions_seen))}, VmRSS median {before:.0f} KiB in the "
          f"first window, {after:.0f} KiB in the last (samples: {[kib for _, kib in rss]})")
    assert counts["valid"] > 100 and counts["invalid"] > 20, counts
    assert valid_errors == [], f"{len(valid_errors)} valid requests failed: {valid_errors[:5]}"
    assert invalid_errors == [], (f"{len(invalid_errors)} invalid requests not answered 4xx: "
                                  f"{invalid_errors[:5]}")
    assert invalid_seen == {case[0] for case in invalid}
    # Hot reload: version 2 answered; the corrupt version 3 was refused and counted.
    assert {"1", "2"} <= versions_seen, versions_seen
    assert final_status == 200 and final_headers.get("x-model-version") == "2"
    assert local_stack.metric_sum(metrics, "tabula_reload_failures_total", model=MODEL) >= 1
    allowed = before * (1 + RSS_RELATIVE) + RSS_ABSOLUTE_KIB
    assert after <= allowed, (f"VmRSS grew from {before:.0f} KiB to {after:.0f} KiB "
                              f"(allowed {allowed:.0f}); samples {rss}")
