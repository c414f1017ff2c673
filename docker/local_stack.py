"""The docker/ stack's pieces as local processes on loopback: `tabula serve` processes and an
unprivileged nginx rendered from docker/nginx.conf. Used by tests/python/test_nginx_integration.py,
tests/python/test_soak.py and benchmarks/bench_serve.py, so all three run the shipped nginx
configuration rather than a copy of it.

Everything binds 127.0.0.1 on ports the kernel reports free; every process is started with its
own log file and stopped (SIGTERM, then SIGKILL) when its context manager exits.
"""
import contextlib
import http.client
import json
import os
import pathlib
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
NGINX_CONF = ROOT / "docker" / "nginx.conf"
NGINX_BIN = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK)
                                      else None)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_missing_reason(tabula_bin):
    """None when `tabula_bin` can serve; else why not (no `serve` verb, or built without the
    HTTP server). Probes with a repository that does not exist, so nothing is started."""
    help_text = subprocess.run([tabula_bin, "serve", "--help"], capture_output=True, text=True)
    if help_text.returncode != 0 or "--model-repository" not in help_text.stdout:
        return f"{tabula_bin} has no `serve` command"
    with tempfile.TemporaryDirectory() as tmp:
        probe = subprocess.run([tabula_bin, "serve", "--model-repository", f"{tmp}/absent",
                                "--port", "0"], capture_output=True, text=True, timeout=30)
    if "built without the HTTP server" in probe.stderr:
        return probe.stderr.strip().splitlines()[-1]
    return None


def train_forest(tabula_bin, data, target, out, n_estimators=100, seed=0, extra=()):
    """`tabula train` of a random forest on every row of `data`; writes the artifact `out`."""
    out = pathlib.Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    args = [tabula_bin, "--log-level", "warn", "train", "--data", str(data), "--target", target,
            "--model", "forest", "--param", f"n_estimators={n_estimators}", "--seed", str(seed),
            "--test-size", "0", *extra, "--out", str(out)]
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr}")
    return out


def log_tail(path, lines=30):
    try:
        return "\n".join(pathlib.Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Client:
    """One keep-alive HTTP/1.1 connection (reopened after a failure), like a real client's."""

    def __init__(self, port, host="127.0.0.1", timeout=30):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(status, lower-cased headers, body bytes). A body that is not bytes is sent as JSON."""
        headers = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        answer = {k.lower(): v for k, v in response.getheaders()}
        if answer.get("connection", "").lower() == "close":
            self.close()
        return response.status, answer, data

    def json(self, method, path, body=None, headers=None):
        status, answer, data = self.request(method, path, body, headers)
        return status, answer, (json.loads(data) if data else None)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def get(port, path, timeout=5):
    """One GET on a fresh connection: (status, body text); (None, reason) when unreachable."""
    client = Client(port, timeout=timeout)
    try:
        status, _, data = client.request("GET", path)
        return status, data.decode(errors="replace")
    except (OSError, http.client.HTTPException) as error:
        return None, str(error)
    finally:
        client.close()


def vm_rss_kib(pid):
    """Resident set size of a process in KiB (VmRSS in /proc/<pid>/status)."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format as a list of (name, {label: value}, float value)."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match:
            labels = dict(_LABEL.findall(match.group(3) or ""))
            samples.append((match.group(1), labels, float(match.group(4))))
    return samples


def metric_sum(samples, name, **labels):
    """The sum of every sample called `name` whose labels include `labels`."""
    return sum(value for sample, have, value in samples
               if sample == name and all(have.get(k) == v for k, v in labels.items()))


def stop_process(process, timeout=10):
    """SIGTERM, wait, then SIGKILL; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


class Server:
    """A running `tabula serve`: .process, .port, .log."""

    def __init__(self, process, port, log):
        self.process, self.port, self.log = process, port, log

    @property
    def pid(self):
        return self.process.pid

    def metrics(self):
        status, text = get(self.port, "/metrics")
        if status != 200:
            raise RuntimeError(f"GET /metrics on port {self.port}: {status} {text[:200]}")
        return parse_metrics(text)


def wait_ready(port, process, log, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_tail(log)}")
        if get(port, "/v2/health/ready", timeout=2)[0] == 200:
            return
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} not ready after {timeout} s:\n{log_tail(log)}")


@contextlib.contextmanager
def tabula_server(tabula_bin, repository, log, port=None, args=(), ready_timeout=30):
    """Starts `tabula serve` on 127.0.0.1 and yields a Server once /v2/health/ready is 200."""
    port = port or free_port()
    command = [tabula_bin, "--log-level", "warn", "serve", "--model-repository", str(repository),
               "--host", "127.0.0.1", "--port", str(port), *map(str, args)]
    with open(log, "ab") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    try:
        wait_ready(port, process, log, ready_timeout)
        yield Server(process, port, log)
    finally:
        stop_process(process)


def render_nginx_conf(upstream_ports, listen_port, workdir, worker_processes=None,
                      access_log=True):
    """docker/nginx.conf for loopback: upstreams 127.0.0.1:<port>, listen 127.0.0.1:<port>,
    pid/log/temp paths under `workdir` (and `worker_processes` when given). Everything else is
    the shipped file, unchanged; a rendering rule that stops matching raises, so the shipped
    file and this stay in step."""
    text = NGINX_CONF.read_text()
    workdir = pathlib.Path(workdir)

    def sub(pattern, replacement, count=1):
        nonlocal text
        text, made = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        if made != count:
            raise RuntimeError(f"docker/nginx.conf: expected {count} match(es) of {pattern!r}, "
                               f"found {made}")

    if worker_processes is not None:
        sub(r"^worker_processes \S+;", f"worker_processes {worker_processes};")
    sub(r"^pid \S+;", f"pid {workdir / 'nginx.pid'};")
    sub(r"^error_log \S+", f"error_log {workdir / 'error.log'}")
    sub(r"^(\s*access_log )\S+", r"\g<1>" + (str(workdir / "access.log") if access_log
                                             else "off;#"))
    sub(r"^(\s*\w+_temp_path )/tmp/", rf"\g<1>{workdir}/", count=5)
    sub(r"^(\s*listen )8080\b", rf"\g<1>127.0.0.1:{listen_port}")
    servers = re.findall(r"^\s*server tabula-\d+:8000 (.*);$", text, flags=re.MULTILINE)
    if not servers:
        raise RuntimeError("docker/nginx.conf: no `server tabula-N:8000 ...;` upstream lines")
    options = servers[0]
    lines = "".join(f"    server 127.0.0.1:{port} {options};\n" for port in upstream_ports)
    sub(r"(^\s*server tabula-\d+:8000 .*;\n)+", lines)
    return text


class Nginx:
    """A running nginx: .port, .workdir, .process."""

    def __init__(self, process, port, workdir):
        self.process, self.port, self.workdir = process, port, workdir

    def access_log(self):
        path = pathlib.Path(self.workdir) / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _unprivileged_prefix(workdir):
    """Run as `nobody` when we are root (CI): nginx is then a plain unprivileged process."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        nobody = None
    if setpriv is None or nobody is None:
        return []
    os.chmod(workdir, 0o777)
    return [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]


@contextlib.contextmanager
def nginx(upstream_ports, port=None, worker_processes=None, access_log=True):
    """Starts nginx (foreground, own prefix/pid/logs in a temp folder) on 127.0.0.1 in front of
    `upstream_ports`; yields an Nginx once it answers. Raises if nginx is not installed."""
    if NGINX_BIN is None:
        raise RuntimeError("nginx is not installed (Debian: apt-get install nginx-light)")
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="tabula-nginx-")
    try:
        prefix = _unprivileged_prefix(workdir)
        conf = pathlib.Path(workdir) / "nginx.conf"
        conf.write_text(render_nginx_conf(upstream_ports, port, workdir, worker_processes,
                                          access_log))
        base = [*prefix, NGINX_BIN, "-p", workdir, "-e", str(pathlib.Path(workdir) / "error.log"),
                "-c", str(conf)]
        check = subprocess.run([*base, "-t", "-q"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the rendered config:\n{check.stderr}")
        with open(pathlib.Path(workdir) / "stderr.log", "ab") as sink:
            process = subprocess.Popen([*base, "-g", "daemon off;"], stdout=sink,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while get(port, "/v2/health/live", timeout=1)[0] is None:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start:\n" +
                                       log_tail(pathlib.Path(workdir) / "error.log"))
                time.sleep(0.05)
            yield Nginx(process, port, workdir)
        finally:
            # SIGQUIT: graceful stop (SIGTERM is nginx's fast shutdown; either ends it).
            if process.poll() is None:
                process.send_signal(signal.SIGQUIT)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
