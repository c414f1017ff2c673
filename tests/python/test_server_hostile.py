"""`tabula serve` against hostile clients, over raw sockets: malformed targets, deeply nested
JSON, body limits bypassed by chunking or compression, ambiguous framing (request smuggling),
pipelining, idle and slow-drip connections, too many connections, odd headers. Every case
answers a 4xx (or is cut off by a limit) and the server keeps serving valid requests.
The bounded soak at the end holds 500 hostile connections open while valid clients measure
their latency (docs/security.md, "The server")."""
import gzip
import json
import os
import re
import selectors
import socket
import statistics
import threading
import time
import zlib

import pytest

from test_server_harness import Server, train

ROW = [0.03, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, 0, 0.01, -0.01]
COLUMNS = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
INFER = "/v2/models/d/infer"
V2_BODY = json.dumps(
    {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 10], "data": ROW}]}).encode()
# Resident peak allowed above the server's own baseline (a CUDA build maps ~250 MB of CUDA
# libraries at start) while it refuses a 100 MB chunked or 256 MB inflated body.
PEAK_GROWTH_LIMIT_KIB = 128 * 1024


@pytest.fixture(scope="module")
def repo(tmp_path_factory, run_tabula, data_dir):
    root = tmp_path_factory.mktemp("hostile")
    train(run_tabula, data_dir / "diabetes.csv", "target", "ridge", root / "d" / "1" / "model.tabula")
    return root


@pytest.fixture(scope="module")
def server(tabula_bin, repo):
    s = Server(tabula_bin, repo, "--poll-interval", 0, "--read-timeout", 3)
    s.baseline_kib = peak_rss_kib(s)
    yield s
    assert s.stop() == 0


def connect(server, timeout=10):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class Reader:
    """Reads HTTP/1.1 responses (Content-Length framed, as the server sends) off one socket."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the server")
        self.buf += data

    def response(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        if status == 100:
            return self.response()
        length = int(headers.get("content-length", 0))
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body


def exchange(server, raw, timeout=10):
    """Sends `raw` on a new connection; (status, headers, body) of the first answer."""
    with connect(server, timeout) as sock:
        sock.sendall(raw)
        return Reader(sock).response()


def post(path, body, *headers):
    head = [f"POST {path} HTTP/1.1", "Host: x", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def assert_alive(server):
    status, _, body = exchange(server, post(INFER, V2_BODY))
    assert status == 200, body
    assert server.proc.poll() is None


def assert_error(status, body, low=400, high=499):
    assert low <= status <= high, (status, body)
    assert "error" in json.loads(body)


def peak_rss_kib(server):
    text = open(f"/proc/{server.proc.pid}/status").read()
    return int(re.search(r"VmHWM:\s+(\d+)", text).group(1))


@pytest.mark.parametrize("target", ["/v2/health/%FF", "/v2/health/%C0", "/v2/models/%C0%AF",
                                    "/v2/models/d%00", "/v2/models/%2E%2E", "/v2/health/%G1",
                                    "/v2/health/%", "http://x/v2", "*"])
def test_bad_targets_are_client_errors(server, target):
    status, _, body = exchange(server, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert_error(status, body)
    assert b"json.exception" not in body and b"[json" not in body
    assert_alive(server)


def test_nul_in_a_model_name_creates_no_phantom_entry(server):
    status, _, body = exchange(server, post("/v2/repository/models/d%00x/load", b""))
    assert_error(status, body)
    status, _, body = exchange(server, post("/invocations?model=d%00", b"{}"))
    assert_error(status, body)
    status, _, body = exchange(server, post("/v2/repository/index", b""))
    assert status == 200
    assert {e["name"] for e in json.loads(body)} == {"d"}


def nested(depth):
    return "[" * depth + "1" + "]" * depth


@pytest.mark.parametrize("body", [
    '{"dataframe_split": {"columns": %s, "data": [[%s, 0, 0, 0, 0, 0, 0, 0, 0, 0]]}}'
    % (json.dumps(COLUMNS), nested(100000)),
    '{"dataframe_records": [{"age": %s}]}' % nested(100000),
    '{"dataframe_records": [{"age": %s}]}' % ("{\"a\":" * 100000 + "1" + "}" * 100000),
])
def test_deeply_nested_json_is_refused(server, body):
    status, _, answer = exchange(server, post("/invocations?model=d", body.encode()))
    assert_error(status, answer)
    assert b"deep" in answer
    assert_alive(server)


def test_deep_v2_request_is_refused(server):
    body = '{"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 10], "data": %s}]}' % nested(
        100000)
    status, _, answer = exchange(server, post(INFER, body.encode()))
    assert_error(status, answer)
    assert_alive(server)


def send_until_answered(server, head, chunks):
    """Sends `head`, then `chunks` from a thread until the server answers or closes; returns
    (answer, bytes sent)."""
    sock = connect(server, timeout=30)
    sent = [0]

    def pump():
        try:
            sock.sendall(head)
            for chunk in chunks:
                sock.sendall(chunk)
                sent[0] += len(chunk)
        except OSError:
            pass

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    try:
        answer = Reader(sock).response()
    finally:
        sock.close()
        thread.join(30)
    return answer, sent[0]


def test_chunked_body_cannot_bypass_the_body_limit(server):
    chunk = b"%x\r\n%s\r\n" % (1 << 20, b" " * (1 << 20))
    head = f"POST {INFER} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    (status, _, body), sent = send_until_answered(server, head, (chunk for _ in range(100)))
    assert status == 413, body
    assert sent < 60 * (1 << 20), "the server read far past its 16 MiB limit"
    assert peak_rss_kib(server) - server.baseline_kib < PEAK_GROWTH_LIMIT_KIB
    assert_alive(server)


def test_gzip_bomb_is_refused_while_inflating(server):
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    zeros = b"0" * (1 << 20)
    bomb = b"".join(packer.compress(zeros) for _ in range(256)) + packer.flush()  # 256 MiB
    assert len(bomb) < 2 << 20
    status, _, body = exchange(server, post(INFER, bomb, "Content-Encoding: gzip"))
    assert status == 413, body
    assert peak_rss_kib(server) - server.baseline_kib < PEAK_GROWTH_LIMIT_KIB
    assert_alive(server)


def test_compressed_valid_request_is_served(server):
    for encoding, data in [("gzip", gzip.compress(V2_BODY)), ("deflate", zlib.compress(V2_BODY))]:
        status, _, body = exchange(server, post(INFER, data, f"Content-Encoding: {encoding}"))
        assert status == 200, body
    status, _, body = exchange(server, post(INFER, b"not gzip", "Content-Encoding: gzip"))
    assert_error(status, body)
    status, _, body = exchange(server, post(INFER, V2_BODY, "Content-Encoding: br"))
    assert status == 415


@pytest.mark.parametrize("framing", [
    ["Content-Length: 5", "Content-Length: 6"],
    ["Content-Length: 6", "Transfer-Encoding: chunked"],
    ["Transfer-Encoding: chunked", "Content-Length: 6"],
    ["Transfer-Encoding: gzip, chunked"],
    ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
    ["Content-Length: -1"],
    ["Content-Length: 1x"],
])
def test_ambiguous_framing_is_refused(server, framing):
    raw = post(INFER, b"0\r\n\r\nGET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n", *framing)
    with connect(server) as sock:
        sock.sendall(raw)
        reader = Reader(sock)
        status, headers, body = reader.response()
        assert_error(status, body)
        assert headers.get("connection") == "close"
        # No second, smuggled request is answered on this connection.
        with pytest.raises((ConnectionError, OSError)):
            reader.response()
    assert_alive(server)


def test_pipelined_requests_are_answered_in_order(server):
    live = b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"
    batch = post(INFER, V2_BODY) + live + post("/invocations?model=d", json.dumps(
        {"dataframe_split": {"columns": COLUMNS, "data": [ROW]}}).encode()) + post(INFER, b"{x")
    with connect(server) as sock:
        sock.sendall(batch * 3)
        reader = Reader(sock)
        for _ in range(3):
            first, second, third, fourth = (reader.response() for _ in range(4))
            assert first[0] == 200 and json.loads(first[2])["model_name"] == "d"
            assert second[0] == 200 and json.loads(second[2]) == {"live": True}
            assert third[0] == 200 and "predictions" in json.loads(third[2])
            assert fourth[0] == 400


def test_range_header_is_ignored(server):
    plain = exchange(server, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    ranges = ",".join(["0-"] * 1000)
    status, headers, body = exchange(
        server, f"GET /metrics HTTP/1.1\r\nHost: x\r\nRange: bytes={ranges}\r\n\r\n".encode())
    assert status == 200 and "multipart" not in headers.get("content-type", "")
    assert len(body) < 2 * len(plain[2]) + 4096


def test_post_without_a_body_is_answered_at_once(server):
    start = time.time()
    status, _, body = exchange(server, f"POST {INFER} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert_error(status, body)
    assert time.time() - start < 1


@pytest.mark.parametrize("content_type", [[], ["Content-Type: application/x-www-form-urlencoded"]])
def test_large_json_without_a_json_content_type_is_served(server, content_type):
    """The body is JSON whatever Content-Type says (curl -d sends a form type)."""
    body = json.dumps({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 10],
                                   "data": ROW}], "pad": "x" * (4 << 20)}).encode()
    status, _, answer = exchange(server, post(INFER, body, *content_type))
    assert status == 200, answer


def test_header_limit(server):
    status, _, body = exchange(
        server, b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n")
    assert status == 431, body
    assert_alive(server)


def test_expect_100_continue(server):
    with connect(server) as sock:
        sock.sendall(post(INFER, b"", "Expect: 100-continue").replace(
            b"Content-Length: 0", b"Content-Length: %d" % len(V2_BODY)))
        assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(V2_BODY)
        assert Reader(sock).response()[0] == 200


def test_idle_and_slow_connections_do_not_stall_the_service(server):
    """More idle and slow-drip connections than the server has threads (--workers 16)."""
    idle = [connect(server) for _ in range(40)]
    drip = [connect(server) for _ in range(40)]
    try:
        for sock in drip:
            sock.sendall(b"POST /v2/models/d/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n")
        for _ in range(5):
            for sock in drip:
                sock.sendall(b"X: y\r\n")
            start = time.time()
            assert_alive(server)
            assert time.time() - start < 1
            time.sleep(0.1)
    finally:
        for sock in idle + drip:
            sock.close()


def test_slow_drip_is_cut_off_by_the_read_timeout(server):
    """--read-timeout 3: a request dripping one header line every 0.5 s is closed."""
    with connect(server) as sock:
        sock.sendall(b"GET /v2/health/live HTTP/1.1\r\n")
        start = time.time()
        with pytest.raises((ConnectionError, OSError)):
            while time.time() - start < 10:
                sock.sendall(b"X: y\r\n")
                time.sleep(0.5)
                sock.settimeout(0.01)
                try:
                    if sock.recv(1024) == b"":
                        raise ConnectionError("closed")
                except socket.timeout:
                    pass
        assert time.time() - start < 6


def hold_connection(server, patience=5.0):
    """A connection the server has accepted and answered once, so it is certainly counted and
    kept open. The start-up readiness probe's connection may still be counted for a moment on a
    loaded machine, so a 503 is retried on a fresh connection until `patience` runs out."""
    deadline = time.time() + patience
    while True:
        sock = connect(server)
        sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        status = Reader(sock).response()[0]
        if status == 200:
            return sock
        sock.close()
        assert status == 503 and time.time() < deadline, status
        time.sleep(0.05)


def test_connection_limit_answers_503_and_recovers(tabula_bin, repo, tmp_path):
    server = Server(tabula_bin, repo, "--poll-interval", 0, "--max-connections", 8,
                    log_dir=tmp_path)
    try:
        held = [hold_connection(server) for _ in range(8)]
        with connect(server) as extra:
            extra.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, body = Reader(extra).response()
            assert status == 503, body
        for sock in held:
            sock.close()
        deadline = time.time() + 5
        while True:
            try:
                assert_alive(server)
                break
            except (AssertionError, OSError):
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        assert server.stop() == 0


# ---- bounded soak: 500 hostile connections next to valid traffic ------------------------------

SOAK_SECONDS = float(os.environ.get("TABULA_HOSTILE_SOAK_SECONDS", "20"))
HOSTILE_CONNECTIONS = 500
VALID_THREADS = 2


def rss_kib(pid):
    text = open(f"/proc/{pid}/status").read()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1))


class Hostile:
    """Keeps HOSTILE_CONNECTIONS open in one thread: idle ones, slow header drips, slow body
    drips, garbage, and chunked uploads that never end; reopens whatever the server closes."""

    KINDS = ["idle", "drip_header", "drip_body", "garbage", "chunked"]

    def __init__(self, server):
        self.server, self.stop, self.opened = server, threading.Event(), 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def open(self, sel, k):
        try:
            sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=2)
        except OSError:
            return
        sock.setblocking(False)
        kind = self.KINDS[k % len(self.KINDS)]
        first = {
            "idle": b"",
            "drip_header": b"GET /v2/health/live HTTP/1.1\r\n",
            "drip_body": b"POST /v2/models/d/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{",
            "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 4,
            "chunked": b"POST /invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        }[kind]
        try:
            sock.send(first)
        except OSError:
            pass
        sel.register(sock, selectors.EVENT_READ, kind)
        self.opened += 1

    def run(self):
        sel = selectors.DefaultSelector()
        for k in range(HOSTILE_CONNECTIONS):
            self.open(sel, k)
        k = 0
        while not self.stop.is_set():
            for key, _ in sel.select(timeout=0.2):  # readable: an answer or a close
                sel.unregister(key.fileobj)
                key.fileobj.close()
                self.open(sel, k)
                k += 1
            for key in list(sel.get_map().values()):
                drip = {"drip_header": b"X: y\r\n", "drip_body": b"1", "chunked": b"1\r\n \r\n"}
                if key.data in drip:
                    try:
                        key.fileobj.send(drip[key.data])
                    except OSError:
                        pass
            while len(sel.get_map()) < HOSTILE_CONNECTIONS and not self.stop.is_set():
                self.open(sel, k)
                k += 1
            time.sleep(0.3)
        for key in list(sel.get_map().values()):
            key.fileobj.close()


def valid_client(server, stop, latencies, errors):
    sock = None
    while not stop.is_set():
        try:
            if sock is None:
                sock = connect(server, timeout=5)
                reader = Reader(sock)
            start = time.perf_counter()
            sock.sendall(post(INFER, V2_BODY))
            status, _, body = reader.response()
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors.append((status, body[:200]))
        except OSError as e:  # keep-alive connections close after --keep-alive-timeout only
            errors.append(repr(e))
            sock = None
        time.sleep(0.002)
    if sock:
        sock.close()


def test_hostile_soak(tabula_bin, repo, tmp_path):
    server = Server(tabula_bin, repo, "--poll-interval", 0, "--read-timeout", 4,
                    "--keep-alive-timeout", 30, log_dir=tmp_path)
    hostile = Hostile(server)
    stop = threading.Event()
    latencies, errors, rss = [], [], []
    try:
        hostile.thread.start()
        time.sleep(1)  # the hostile connections are open
        clients = [threading.Thread(target=valid_client, args=(server, stop, latencies, errors))
                   for _ in range(VALID_THREADS)]
        for c in clients:
            c.start()
        end = time.time() + SOAK_SECONDS
        while time.time() < end:
            rss.append(rss_kib(server.proc.pid))
            time.sleep(0.25)
        stop.set()
        for c in clients:
            c.join(10)
        hostile.stop.set()
        hostile.thread.join(10)
        assert server.proc.poll() is None
        assert not errors, errors[:5]
        assert len(latencies) > 100 * SOAK_SECONDS
        p99 = statistics.quantiles(latencies, n=100)[98]
        assert p99 < 0.050, f"p99 {p99 * 1000:.1f} ms over {len(latencies)} requests"
        assert hostile.opened > HOSTILE_CONNECTIONS, "the server cut no hostile connection"
        window = max(1, len(rss) // 5)
        first, last = statistics.median(rss[window:2 * window]), statistics.median(rss[-window:])
        assert last <= first * 1.05 + 4096, f"RSS {first} KiB -> {last} KiB"
        print(f"hostile soak: {len(latencies)} valid requests, p99 {p99 * 1000:.1f} ms, "
              f"{hostile.opened} hostile connections, RSS {first} -> {last} KiB")
    finally:
        stop.set()
        hostile.stop.set()
        assert server.stop() == 0
