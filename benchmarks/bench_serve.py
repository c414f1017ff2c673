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
     the same tabula server, to show what the proxy costs.
The peer runs `--peer-workers` gunicorn sync workers (default: the number of cores). Every body
is sent once to every server first and must answer 200; wrk's non-2xx and socket errors are
reported in the table.

Full run for benchmarks/RESULTS.md (idle machine, about 4 minutes):
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


def bench_target(name, port, specs, args, rows_out):
    """Runs every workload against one server; appends rows to rows_out."""
    file, path, _ = specs["single"]
    run_wrk(port, path, file, 16, args.warmup, args.wrk_threads)  # warm-up, not reported
    for connections in args.connections:
        rows_out.append((name, "1 row, v2 infer", connections,
                         run_wrk(port, path, file, connections, args.duration, args.wrk_threads),
                         1))
    for key, label in (("batch_v2", "v2 infer"), ("batch_mlflow", "/invocations")):
        file, path, rows = specs[key]
        for connections in args.batch_connections:
            result = run_wrk(port, path, file, connections, args.duration, args.wrk_threads)
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
             "| server | request | connections | req/s | rows/s | p50 ms | p99 ms | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, request, connections, result, batch in rows:
        lines.append(f"| {name} | {request} | {connections} | {rate(result):,.0f} | "
                     f"{rate(result) * batch:,.0f} | {result['latency_p50_us'] / 1e3:.2f} | "
                     f"{result['latency_p99_us'] / 1e3:.2f} | {errors(result)} |")
    return lines


def summary(rows):
    """Ratios against the peer and the nginx cost, single-row requests."""
    by_key = {(name, request, c): result for name, request, c, result, _ in rows}
    lines = ["", "| connections | tabula req/s | x peer | tabula p99 ms | peer p99 ms | "
             "via nginx req/s | nginx / direct |", "|---:|---:|---:|---:|---:|---:|---:|"]
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
    from importlib.metadata import version
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


def main():
    args = parse_args()
    tabula_bin = str(pathlib.Path(args.tabula).resolve())
    if not os.access(tabula_bin, os.X_OK):
        sys.exit(f"no tabula binary at {tabula_bin} (--tabula)")
    if reason := local_stack.server_missing_reason(tabula_bin):
        sys.exit(reason)
    rows = []
    with tempfile.TemporaryDirectory(prefix="tabula-bench-serve-") as tmp:
        work = pathlib.Path(tmp)
        csv, features, target = load_table(args, work)
        local_stack.train_forest(tabula_bin, csv, args.target,
                                 work / "repo" / MODEL / "1" / "model.tabula", args.trees)
        specs = bodies(features, args.batch_rows, work)
        server_args = ["--poll-interval", "0", *shlex.split(args.server_args)]
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
            answers = {name: predictions(port, *specs["batch_v2"][:2])
                       for name, port, _ in targets}
            for name, port, _ in targets:
                predictions(port, *specs["single"][:2])
                predictions(port, *specs["batch_mlflow"][:2])
            memory = []
            for name, port, pid in targets:
                print(f"bench_serve: {name} ...", file=sys.stderr, flush=True)
                bench_target(name, port, specs, args, rows)
                if pid is not None:
                    memory.append(f"{name} {tree_rss_kib(pid) / 1024:.0f} MiB")
    table = f"synthetic {args.synthetic}" if args.synthetic else pathlib.Path(args.data).name
    header = [f"## Serving: {args.trees}-tree forest, {features.shape[1]} features ({table})",
              "", "Command: `" + " ".join(shlex.quote(a) for a in sys.argv) + "`", "",
              *versions(tabula_bin),
              f"- wrk: {args.wrk_threads} threads (at most one per connection), "
              f"{args.duration:g} s per run after a {args.warmup:g} s warm-up, loopback; peer: "
              f"{args.peer_workers} gunicorn sync workers",
              "- resident memory after the runs: " + (", ".join(memory) or "-")]
    if "flask+gunicorn" in answers:
        agree = np.mean(answers["tabula"] == answers["flask+gunicorn"])
        header.append(f"- the two forests agree on {agree:.1%} of the {args.batch_rows} "
                      "benchmark rows (different implementations, same parameters)")
    report = "\n".join(markdown(rows, header) + summary(rows)) + "\n"
    print(report)
    if args.out:
        pathlib.Path(args.out).write_text(report)


if __name__ == "__main__":
    main()
