#!/usr/bin/env python3
"""Serving benchmark: `tabula serve` next to the classic way of serving the same model (a Flask
app with a scikit-learn pipeline under gunicorn, benchmarks/peers/flask_app.py), side by side in
one run on loopback, driven by wrk (benchmarks/wrk/post_body.lua).

Model: a 100-tree random forest classifier on data/breast_cancer.csv (569 rows x 30 features,
real data), trained on every row by `tabula train` and, with the same parameters
(n_estimators=100, sklearn defaults otherwise, random_state=0), by scikit-learn's
Pipeline([RandomForestClassifier]). `--synthetic ROWS,COLS` trains both on a
make_classification table instead.

Workloads, each for --duration seconds after a short warm-up:
  1. single-row POST /v2/models/<m>/infer at 1, 16 and 64 connections: req/s, p50, p99;
  2. 1,000-row requests (v2 infer as one [1000, d] tensor, and MLflow /invocations with
     dataframe_split): rows/s;
  3. the same against nginx (docker/nginx.conf rendered by docker/local_stack.py) in front of
     the same tabula server, to show what the proxy costs;
  4. the Open Inference Protocol over gRPC on the same server (`--grpc-port`), single-row and
     1,000-row ModelInfer calls with raw tensors (what tritonclient.grpc sends), driven by
     bench_grpc_load (benchmarks/serve/grpc_load.cpp, wrk's counterpart: one call in flight per
     connection);
  5. drift tracking's cost: single-row REST at --drift-connections against two servers of the
     same model, one with the default drift window and one with `--drift-window 0`, alternated
     --drift-rounds times; medians and the throughput lost.
The peer runs `--peer-workers` gunicorn sync workers (default: the number of cores). Every body
is sent once to every server first and must answer 200; wrk's non-2xx and socket errors are
reported in the table.

Full run for benchmarks/RESULTS.md (idle machine, about 6 minutes):
  .venv/bin/python benchmarks/bench_serve.py --tabula build/release/tabula --duration 10 \
      --out benchmarks/results/serve.md
Quick end-to-end check (under 2 minutes; figures are not meaningful on a busy machine):
  .venv/bin/python benchmarks/bench_serve.py --tabula build-deploy/tabula --quick
Prints a markdown table (and writes it to --out).
"""
import argparse
import contextlib
import datetime
import json
import os
import pathlib
import platform
import shlex
import subprocess
import sys
import tempfile

import joblib
import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docker"))
import local_stack  # noqa: E402  (docker/local_stack.py: servers and nginx on loopback)

LUA = ROOT / "benchmarks" / "wrk" / "post_body.lua"
PEER_DIR = ROOT / "benchmarks" / "peers"
MODEL = "forest"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tabula", default=os.environ.get("TABULA_BIN", "build/release/tabula"))
    parser.add_argument("--data", default=str(ROOT / "data" / "breast_cancer.csv"))
    parser.add_argument("--target", default="target")
    parser.add_argument("--synthetic", help="ROWS,COLS: a make_classification table instead")
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per server")
    parser.add_argument("--connections", default="1,16,64", help="single-row runs")
    parser.add_argument("--batch-rows", type=int, default=1000)
    parser.add_argument("--batch-connections", default="1,16", help="1,000-row runs")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--peer-workers", type=int, default=os.cpu_count())
    parser.add_argument("--server-args", default="", help="extra `tabula serve` options")
    parser.add_argument("--no-peer", action="store_true", help="skip Flask/gunicorn")
    parser.add_argument("--no-nginx", action="store_true", help="skip the runs through nginx")
    parser.add_argument("--grpc-load", help="bench_grpc_load binary (default: beside --tabula, "
                        "benchmarks/serve/bench_grpc_load)")
    parser.add_argument("--no-grpc", action="store_true", help="skip the gRPC runs")
    parser.add_argument("--no-drift", action="store_true", help="skip the drift-cost runs")
    parser.add_argument("--drift-connections", type=int, default=64)
    parser.add_argument("--drift-rounds", type=int, default=3,
                        help="alternated runs per server in the drift-cost measurement")
    parser.add_argument("--only-drift", action="store_true",
                        help="run the drift-cost measurement alone")
    parser.add_argument("--quick", action="store_true",
                        help="3 s runs, 1 s warm-up: checks the whole benchmark in < 2 minutes")
    parser.add_argument("--out", help="also write the markdown report here")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.warmup = 3, 1
    args.connections = [int(c) for c in args.connections.split(",")]
    args.batch_connections = [int(c) for c in args.batch_connections.split(",")]
    return args


def load_table(args, workdir):
    """(csv path, DataFrame of features, target Series)."""
    if args.synthetic:
        from sklearn.datasets import make_classification
        rows, cols = (int(v) for v in args.synthetic.split(","))
        x, y = make_classification(n_samples=rows, n_features=cols, n_informative=cols // 2,
                                   random_state=0)
        frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(cols)])
        frame[args.target] = y
        csv = workdir / "synthetic.csv"
        frame.to_csv(csv, index=False)
    else:
        csv = pathlib.Path(args.data)
        frame = pd.read_csv(csv)
    return csv, frame.drop(columns=[args.target]), frame[args.target]


def train_peer(features, target, trees, out):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    pipeline = Pipeline([("forest", RandomForestClassifier(n_estimators=trees, random_state=0,
                                                           n_jobs=1))])
    pipeline.fit(features, target)
    joblib.dump({"name": MODEL, "pipeline": pipeline, "features": list(features.columns),
                 "classes": pipeline.classes_.tolist()}, out)


def bodies(features, batch_rows, workdir):
    """Request bodies written to files for wrk: {key: (path, url path, rows)}."""
    rng = np.random.default_rng(0)
    one = features.iloc[[len(features) // 2]].to_numpy(np.float64)
    many = features.to_numpy(np.float64)[rng.integers(0, len(features), batch_rows)]
    d = features.shape[1]

    def tensor(x):
        return {"inputs": [{"name": "input", "datatype": "FP64", "shape": [len(x), d],
                            "data": x.ravel().tolist()}]}

    specs = {
        "single": (tensor(one), f"/v2/models/{MODEL}/infer", 1),
        "batch_v2": (tensor(many), f"/v2/models/{MODEL}/infer", batch_rows),
        "batch_mlflow": ({"dataframe_split": {"columns": list(features.columns),
                                              "data": many.tolist()}}, "/invocations",
                         batch_rows),
    }
    out = {}
    for key, (body, path, rows) in specs.items():
        file = workdir / f"{key}.json"
        file.write_text(json.dumps(body))
        out[key] = (file, path, rows)
    return out


def predictions(port, body_file, path):
    """Sends one body; returns the predicted labels (asserting a 200)."""
    client = local_stack.Client(port, timeout=60)
    try:
        status, _, answer = client.json("POST", path, body_file.read_bytes(),
                                        {"Content-Type": "application/json"})
    finally:
        client.close()
    if status != 200:
        raise RuntimeError(f"POST {path} on port {port}: {status} {answer}")
    if "predictions" in answer:
        return np.asarray(answer["predictions"])
    outputs = {o["name"]: o["data"] for o in answer["outputs"]}
    return np.asarray(outputs["predict"])


def run_wrk(port, path, body_file, connections, duration, threads):
    env = dict(os.environ, TABULA_WRK_BODY=str(body_file))
    command = ["wrk", "-t", str(min(threads, connections)), "-c", str(connections),
               "-d", f"{max(1, int(duration))}s", "--timeout", "10s", "-s", str(LUA),
               f"http://127.0.0.1:{port}{path}"]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    for line in result.stdout.splitlines():
        if line.startswith("TABULA_WRK_JSON "):
            return json.loads(line.split(" ", 1)[1])
    raise RuntimeError(f"{' '.join(command)}: no result\n{result.stdout}\n{result.stderr}")


@contextlib.contextmanager
def gunicorn(model_file, workers, log):
    port = local_stack.free_port()
    venv_bin = pathlib.Path(sys.executable).parent
    binary = venv_bin / "gunicorn" if (venv_bin / "gunicorn").exists() else "gunicorn"
    command = [str(binary), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
               "--backlog", "2048", "--log-level", "warning", "--chdir", str(PEER_DIR),
               "flask_app:app"]
    env = dict(os.environ, PEER_MODEL=str(model_file))
    with open(log, "ab") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        local_stack.wait_ready(port, process, log, timeout=60)
        yield process, port
    finally:
        local_stack.stop_process(process)


def tree_rss_kib(pid):
    """VmRSS of a process and its children (gunicorn's workers)."""
    total = local_stack.vm_rss_kib(pid)
    children = pathlib.Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            total += tree_rss_kib(int(child))
    return total


def grpc_requests(features, batch_rows, workdir):
    """Serialized ModelInferRequests for bench_grpc_load: {key: (path, rows)}, raw FP64 tensors
    [n, d] as tritonclient.grpc sends them."""
    from tritonclient.grpc import service_pb2
    rng = np.random.default_rng(0)
    one = features.iloc[[len(features) // 2]].to_numpy(np.float64)
    many = features.to_numpy(np.float64)[rng.integers(0, len(features), batch_rows)]
    out = {}
    for key, x in (("single", one), ("batch", many)):
        request = service_pb2.ModelInferRequest(model_name=MODEL)
        request.inputs.add(name="input", datatype="FP64", shape=list(x.shape))
        request.raw_input_contents.append(np.ascontiguousarray(x).tobytes())
        file = workdir / f"grpc_{key}.pb"
        file.write_bytes(request.SerializeToString())
        out[key] = (file, len(x))
    return out


def grpc_predictions(port, request_file):
    """Sends one request over gRPC; returns the predicted labels."""
    import grpc
    from tritonclient.grpc import service_pb2, service_pb2_grpc
    request = service_pb2.ModelInferRequest.FromString(request_file.read_bytes())
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        response = service_pb2_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request)
    names = [o.name for o in response.outputs]
    raw = response.raw_output_contents[names.index("predict")]
    return np.frombuffer(raw, dtype=np.int64)


def run_grpc_load(binary, port, request_file, connections, duration, threads):
    command = [binary, "--target", f"127.0.0.1:{port}", "--request", str(request_file),
               "--connections", str(connections), "--threads", str(min(threads, connections)),
               "--duration", str(max(1, int(duration)))]
    result = subprocess.run(command, capture_output=True, text=True)
    for line in result.stdout.splitlines():
        if line.startswith("TABULA_WRK_JSON "):
            return json.loads(line.split(" ", 1)[1])
    raise RuntimeError(f"{' '.join(command)}: no result\n{result.stdout}\n{result.stderr}")


def bench_grpc(binary, port, pid, requests, args, rows_out):
    file, _ = requests["single"]
    run_grpc_load(binary, port, file, 16, args.warmup, args.wrk_threads)  # warm-up
    for connections in args.connections:
        result = with_server_cpu(pid, lambda: run_grpc_load(binary, port, file, connections,
                                                            args.duration, args.wrk_threads))
        rows_out.append(("tabula gRPC", "1 row, ModelInfer", connections, result, 1))
    file, rows = requests["batch"]
    for connections in args.batch_connections:
        result = with_server_cpu(pid, lambda: run_grpc_load(binary, port, file, connections,
                                                            args.duration, args.wrk_threads))
        rows_out.append(("tabula gRPC", f"{rows} rows, ModelInfer", connections, result, rows))


def output_stage_us(port):
    """(compute_output microseconds per batch, rows per batch) from the statistics extension."""
    with contextlib.closing(local_stack.Client(port, timeout=10)) as client:
        status, _, stats = client.json("GET", f"/v2/models/{MODEL}/stats", b"", {})
    if status != 200:
        raise RuntimeError(f"GET /v2/models/{MODEL}/stats: {status} {stats}")
    entry = stats["model_stats"][0]
    batches = max(1, entry["execution_count"])
    ns = sum(b["compute_output"]["ns"] for b in entry["batch_stats"])
    return ns / batches / 1e3, entry["inference_count"] / batches


def drift_overhead(tabula_bin, repo, specs, args, work):
    """Single-row REST throughput with drift tracking on (default window) and off, alternated
    over two servers of the same model; returns markdown lines."""
    file, path, _ = specs["single"]
    c = args.drift_connections
    runs = {"on": [], "off": []}
    with contextlib.ExitStack() as stack:
        servers = {}
        for key, extra in (("on", []), ("off", ["--drift-window", "0"])):
            servers[key] = stack.enter_context(local_stack.tabula_server(
                tabula_bin, repo, work / f"drift-{key}.log",
                args=["--poll-interval", "0", *extra, *shlex.split(args.server_args)]))
            predictions(servers[key].port, file, path)
            run_wrk(servers[key].port, path, file, c, args.warmup, args.wrk_threads)
        for _ in range(args.drift_rounds):
            for key in ("on", "off"):
                print(f"bench_serve: drift {key} ...", file=sys.stderr, flush=True)
                runs[key].append(with_server_cpu(servers[key].pid, lambda: run_wrk(
                    servers[key].port, path, file, c, args.duration, args.wrk_threads)))
        with contextlib.closing(local_stack.Client(servers["on"].port, timeout=10)) as client:
            status, _, report = client.json("GET", f"/v2/models/{MODEL}/drift", b"", {})
        watched = status == 200
        stage_us = {key: output_stage_us(server.port) for key, server in servers.items()}
    median = {k: float(np.median([rate(r) for r in v])) for k, v in runs.items()}
    p99 = {k: float(np.median([r["latency_p99_us"] for r in v])) / 1e3 for k, v in runs.items()}
    cpu = {k: float(np.median([r["server_cpu_us"] for r in v])) for k, v in runs.items()}
    cost = 1 - median["on"] / median["off"]
    lines = ["", f"### Drift tracking's cost: 1-row v2 infer, {c} connections, "
             f"{args.drift_rounds} alternated {args.duration:g} s runs per server", "",
             "| drift window | req/s per run | median req/s | median p99 ms | "
             "median server CPU us/req |", "|---|---|---:|---:|---:|"]
    for key, label in (("on", "default (10,000 rows)"), ("off", "`--drift-window 0`")):
        per_run = ", ".join(f"{rate(r):,.0f}" for r in runs[key])
        lines.append(f"| {label} | {per_run} | {median[key]:,.0f} | {p99[key]:.2f} | "
                     f"{cpu[key]:.1f} |")
    lines += ["", f"Throughput cost of drift tracking: **{cost:.1%}** (goal < 5%); server CPU "
              f"per request {cpu['on'] / cpu['off'] - 1:+.1%}; the window was "
              f"{'watching' if watched else 'NOT watching'} the model. Where drift is counted, "
              f"the scoring thread's compute_output stage (statistics extension: splitting "
              f"results, metrics, drift): {stage_us['on'][0]:.1f} us per batch of "
              f"{stage_us['on'][1]:.1f} rows with drift, {stage_us['off'][0]:.1f} us per batch "
              f"of {stage_us['off'][1]:.1f} rows without."]
    return lines


def cpu_seconds(pid):
    """User + system CPU time of a process so far (all its threads)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_server_cpu(pid, run):
    """run()'s result with "server_cpu_us": the server's CPU time per request (pid: tabula's;
    None where the server is not one process, nginx's or the peer's)."""
    before = cpu_seconds(pid) if pid else None
    result = run()
    if pid and result["requests"]:
        result["server_cpu_us"] = (cpu_seconds(pid) - before) * 1e6 / result["requests"]
    return result


def bench_target(name, port, pid, specs, args, rows_out):
    """Runs every workload against one server; appends rows to rows_out."""
    file, path, _ = specs["single"]
    run_wrk(port, path, file, 16, args.warmup, args.wrk_threads)  # warm-up, not reported
    for connections in args.connections:
        result = with_server_cpu(pid, lambda: run_wrk(port, path, file, connections,
                                                      args.duration, args.wrk_threads))
        rows_out.append((name, "1 row, v2 infer", connections, result, 1))
    for key, label in (("batch_v2", "v2 infer"), ("batch_mlflow", "/invocations")):
        file, path, rows = specs[key]
        for connections in args.batch_connections:
            result = with_server_cpu(pid, lambda: run_wrk(port, path, file, connections,
                                                          args.duration, args.wrk_threads))
            rows_out.append((name, f"{rows} rows, {label}", connections, result, rows))


def errors(result):
    """Failed requests: 0, or the count by kind (status = answers other than 2xx/3xx)."""
    kinds = {k: result[f"errors_{k}"] for k in ("status", "connect", "read", "write", "timeout")}
    total = sum(kinds.values())
    if total == 0:
        return "0"
    return f"{total} (" + ", ".join(f"{k} {n}" for k, n in kinds.items() if n) + ")"


def rate(result):
    return result["requests"] / (result["duration_us"] / 1e6)


def markdown(rows, header):
    lines = [*header, "",
             "| server | request | connections | req/s | rows/s | p50 ms | p99 ms | errors | "
             "server CPU us/req |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, request, connections, result, batch in rows:
        cpu = f"{result['server_cpu_us']:,.0f}" if "server_cpu_us" in result else "-"
        lines.append(f"| {name} | {request} | {connections} | {rate(result):,.0f} | "
                     f"{rate(result) * batch:,.0f} | {result['latency_p50_us'] / 1e3:.2f} | "
                     f"{result['latency_p99_us'] / 1e3:.2f} | {errors(result)} | {cpu} |")
    return lines


def summary(rows):
    """Ratios against the peer and the nginx cost, single-row requests."""
    by_key = {(name, request, c): result for name, request, c, result, _ in rows}
    lines = ["", "| connections | tabula req/s | x peer | tabula p99 ms | peer p99 ms | "
             "via nginx req/s | nginx / direct | gRPC req/s | gRPC p99 ms |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (name, request, c), result in by_key.items():
        if name != "tabula" or not request.startswith("1 row"):
            continue
        peer = by_key.get(("flask+gunicorn", request, c))
        proxied = by_key.get(("nginx -> tabula", request, c))
        cells = [str(c), f"{rate(result):,.0f}"]
        cells.append(f"{rate(result) / rate(peer):.1f}x" if peer else "-")
        cells.append(f"{result['latency_p99_us'] / 1e3:.2f}")
        cells.append(f"{peer['latency_p99_us'] / 1e3:.2f}" if peer else "-")
        cells.append(f"{rate(proxied):,.0f}" if proxied else "-")
        cells.append(f"{rate(proxied) / rate(result):.2f}x of direct" if proxied else "-")
        rpc = by_key.get(("tabula gRPC", "1 row, ModelInfer", c))
        cells.append(f"{rate(rpc):,.0f}" if rpc else "-")
        cells.append(f"{rpc['latency_p99_us'] / 1e3:.2f}" if rpc else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def versions(tabula_bin):
    def out(command):
        try:
            result = subprocess.run(command, capture_output=True, text=True)
            return (result.stdout + result.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    import sklearn
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    def version(package):  # the peer's packages are absent where it is not run (--no-peer)
        try:
            return installed(package)
        except PackageNotFoundError:
            return "not installed"
    cpu = "?"
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return [f"- {out([tabula_bin, '--version'])}; scikit-learn {sklearn.__version__}, "
            f"Flask {version('flask')}, gunicorn {version('gunicorn')}; "
            f"{out(['nginx', '-v']).replace('nginx version: ', '')}; "
            f"{' '.join(out(['wrk', '--version']).split()[:2])}",
            f"- machine: {cpu}, {os.cpu_count()} cores, {platform.platform()}; "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"]


def grpc_load_binary(args, tabula_bin):
    """The load generator, or None when gRPC runs are off or it was not built."""
    if args.no_grpc:
        return None
    binary = pathlib.Path(args.grpc_load or pathlib.Path(tabula_bin).parent / "benchmarks" /
                          "serve" / "bench_grpc_load")
    if not os.access(binary, os.X_OK):
        print(f"bench_serve: no {binary} (a build without gRPC?): gRPC runs skipped",
              file=sys.stderr)
        return None
    return str(binary)


def bench_all(args, tabula_bin, grpc_load, work, features, target, specs, rows):
    """Every server and workload; returns (answers by server, memory notes)."""
    server_args = ["--poll-interval", "0", *shlex.split(args.server_args)]
    grpc_port = local_stack.free_port() if grpc_load else None
    if grpc_port:
        server_args += ["--grpc-port", str(grpc_port)]
        requests = grpc_requests(features, args.batch_rows, work)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(local_stack.tabula_server(
            tabula_bin, work / "repo", work / "tabula.log", args=server_args))
        targets = [("tabula", server.port, server.pid)]
        if not args.no_nginx:
            proxy = stack.enter_context(local_stack.nginx([server.port], access_log=False))
            targets.append(("nginx -> tabula", proxy.port, None))
        if not args.no_peer:
            train_peer(features, target, args.trees, work / "peer.joblib")
            peer, peer_port = stack.enter_context(
                gunicorn(work / "peer.joblib", args.peer_workers, work / "gunicorn.log"))
            targets.append(("flask+gunicorn", peer_port, peer.pid))
        # Every body answers 200 on every server before anything is timed.
        answers = {name: predictions(port, *specs["batch_v2"][:2]) for name, port, _ in targets}
        for name, port, _ in targets:
            predictions(port, *specs["single"][:2])
            predictions(port, *specs["batch_mlflow"][:2])
        if grpc_port:
            answers["tabula gRPC"] = grpc_predictions(grpc_port, requests["batch"][0])
            if not np.array_equal(answers["tabula gRPC"].astype(str),
                                  np.asarray(answers["tabula"]).astype(str)):
                raise RuntimeError("gRPC and REST answers differ")
        memory = []
        for name, port, pid in targets:
            print(f"bench_serve: {name} ...", file=sys.stderr, flush=True)
            bench_target(name, port, pid if name == "tabula" else None, specs, args, rows)
            if name == "tabula" and grpc_port:
                print("bench_serve: tabula gRPC ...", file=sys.stderr, flush=True)
                bench_grpc(grpc_load, grpc_port, pid, requests, args, rows)
            if pid is not None:
                memory.append(f"{name} {tree_rss_kib(pid) / 1024:.0f} MiB")
    return answers, memory


def main():
    args = parse_args()
    tabula_bin = str(pathlib.Path(args.tabula).resolve())
    if not os.access(tabula_bin, os.X_OK):
        sys.exit(f"no tabula binary at {tabula_bin} (--tabula)")
    if reason := local_stack.server_missing_reason(tabula_bin):
        sys.exit(reason)
    grpc_load = grpc_load_binary(args, tabula_bin)
    load_before = os.getloadavg()
    rows, answers, memory, drift = [], {}, [], []
    with tempfile.TemporaryDirectory(prefix="tabula-bench-serve-") as tmp:
        work = pathlib.Path(tmp)
        csv, features, target = load_table(args, work)
        local_stack.train_forest(tabula_bin, csv, args.target,
                                 work / "repo" / MODEL / "1" / "model.tabula", args.trees)
        specs = bodies(features, args.batch_rows, work)
        if not args.only_drift:
            answers, memory = bench_all(args, tabula_bin, grpc_load, work, features, target,
                                        specs, rows)
        if not args.no_drift:
            drift = drift_overhead(tabula_bin, work / "repo", specs, args, work)
    table = f"synthetic {args.synthetic}" if args.synthetic else pathlib.Path(args.data).name
    header = [f"## Serving: {args.trees}-tree forest, {features.shape[1]} features ({table})",
              "", "Command: `" + " ".join(shlex.quote(a) for a in sys.argv) + "`", "",
              *versions(tabula_bin),
              f"- wrk: {args.wrk_threads} threads (at most one per connection), "
              f"{args.duration:g} s per run after a {args.warmup:g} s warm-up, loopback; peer: "
              f"{args.peer_workers} gunicorn sync workers; gRPC: bench_grpc_load, "
              f"{args.wrk_threads} threads, one call in flight per connection",
              "- load average (1, 5, 15 min) before the runs: " + " ".join(
                  f"{v:.2f}" for v in load_before) + "; after: " + " ".join(
                  f"{v:.2f}" for v in os.getloadavg()),
              "- resident memory after the runs: " + (", ".join(memory) or "-")]
    if "flask+gunicorn" in answers:
        agree = np.mean(answers["tabula"] == answers["flask+gunicorn"])
        header.append(f"- the two forests agree on {agree:.1%} of the {args.batch_rows} "
                      "benchmark rows (different implementations, same parameters)")
    if "tabula gRPC" in answers:
        header.append(f"- gRPC and REST answer the same {args.batch_rows} predictions")
    body = markdown(rows, header) + summary(rows) if rows else header
    report = "\n".join(body + drift) + "\n"
    print(report)
    if args.out:
        pathlib.Path(args.out).write_text(report)


if __name__ == "__main__":
    main()
