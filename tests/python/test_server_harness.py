"""Starting `tabula serve` on a free port with a temporary model repository, for the
test_server_*.py tests; the one test here checks the harness itself (start, ready, stop)."""
import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One running server; stop() sends SIGTERM and returns the exit code."""

    def __init__(self, binary, repository, *args, log_dir=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir = pathlib.Path(log_dir or repository)
        self.log_path = log_dir / f"serve-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "serve", "--model-repository", str(repository), "--port", str(self.port),
             "--workers", "16", *map(str, args)],
            stdout=self._log, stderr=subprocess.STDOUT)
        self.wait_ready()

    def wait_ready(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, f"server exited early:\n{self.log()}"
            try:
                if self.request("GET", "/v2/health/ready")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server not ready after {timeout}s:\n{self.log()}")

    def request(self, method, path, body=None, headers=None):
        """(status, headers, parsed JSON or text)."""
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                status, hdrs, raw = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, raw = e.code, e.headers, e.read()
        text = raw.decode()
        try:
            return status, hdrs, json.loads(text)
        except ValueError:
            return status, hdrs, text

    def metrics(self):
        return self.request("GET", "/metrics")[2]

    def metric(self, line_prefix):
        """The value of the first metric line that starts with `line_prefix` (0 when none)."""
        for line in self.metrics().splitlines():
            if line.startswith(line_prefix):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def log(self):
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._log.close()
        return code


def train(run_tabula, data, target, model, out, *params, task=None):
    out = pathlib.Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    args = ["train", "--data", data, "--target", target, "--model", model, "--out", out, "--seed", 7]
    for p in params:
        args += ["--param", p]
    if task:
        args += ["--task", task]
    run_tabula(*args)
    return out


def test_harness_starts_and_stops_cleanly(tabula_bin, run_tabula, data_dir, tmp_path):
    repo = tmp_path / "repo"
    train(run_tabula, data_dir / "diabetes.csv", "target", "ridge", repo / "d" / "1" / "model.tabula")
    server = Server(tabula_bin, repo)
    status, _, body = server.request("GET", "/v2/health/live")
    assert status == 200 and body == {"live": True}
    assert server.stop() == 0
    assert "serve: stopped" in server.log()
