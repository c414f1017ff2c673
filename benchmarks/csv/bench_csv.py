"""CSV parsing throughput: tabula (1 and 2 threads) against pandas.read_csv (C engine) and
pyarrow.csv.read_csv, on the same files in one run; prints a markdown table.

    .venv/bin/python benchmarks/csv/bench_csv.py --bench build/release/bench_csv_parse

Generates, when absent, under benchmarks/data/ (ignored by git; fixed seed):
  numeric_1m_x30.csv  1,000,000 rows x 30 float columns
  mixed_1m.csv        1,000,000 rows: 20 float columns (2% "nan") + 5 string columns
                      (quoted, 1% missing)
  numeric_1m_x30.csv.gz  the first, gzip -6 (with --gzip)
  numeric_1m_x30.parquet, mixed_1m.parquet  the two tables as Parquet (snappy; with --parquet),
                      read by tabula, pandas.read_parquet and pyarrow.parquet.read_table
--millions N makes the tables N million rows (files named numeric_Nm_x30.csv, mixed_Nm.csv):
--millions 4 is the issue's 1 GB scale (1.04 GB numeric, 0.82 GB mixed).
Each parser reads each file --repeat times in a process of its own; the median is reported,
with that process's peak RSS (for the Python peers it includes the interpreter and the imported
libraries: the "python + imports" row is that floor). MB/s counts the CSV text (decompressed)
bytes.
"""
import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "benchmarks" / "data"
ROWS = 1_000_000
SEED = 20240601


def make_numeric(path):
    rng = np.random.default_rng(SEED)
    columns = {f"f{j}": np.round(rng.normal(j, 1 + j, ROWS), 5) for j in range(30)}
    pacsv.write_csv(pa.table(columns), path)


def make_mixed(path):
    rng = np.random.default_rng(SEED + 1)
    columns = {}
    for j in range(20):
        values = np.round(rng.normal(0, 10, ROWS), 4)
        values[rng.random(ROWS) < 0.02] = np.nan  # written as "nan"
        columns[f"x{j}"] = values
    words = np.array([f"city {k}" for k in range(200)] + ["New York, NY", 'say "hi"'])
    for j in range(5):
        picked = words[rng.integers(0, len(words), ROWS)].astype(object)
        picked[rng.random(ROWS) < 0.01] = None
        columns[f"c{j}"] = pa.array(picked, type=pa.string())
    pacsv.write_csv(pa.table(columns), path)


def cpu_seconds():
    """User + system CPU time of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn, repeat):
    """Median (wall seconds, CPU seconds) of `repeat` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        cpu_start, start = cpu_seconds(), time.perf_counter()
        result = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(cpu_seconds() - cpu_start)
        del result
    return statistics.median(wall), statistics.median(cpu)


def run_child(command):
    """Runs `command`; returns its stdout and its peak RSS in MB, by GNU time (a small parent:
    a child forked from this process would inherit this process's high-water mark)."""
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True,
                            text=True, check=True)
    return result.stdout, int(result.stderr.strip().splitlines()[-1]) / 1024


def run_tabula(bench, path, threads, repeat):
    out, rss = run_child([bench, str(path), "--threads", str(threads), "--repeat", str(repeat)])
    result = json.loads(out)
    return result["median_s"], result["median_cpu_s"], rss


PEERS = {
    "pandas.read_csv (C engine)": lambda path: pd.read_csv(path, engine="c"),
    "pyarrow.csv.read_csv (2 threads)": lambda path: pacsv.read_csv(path),
    "pandas.read_parquet": lambda path: pd.read_parquet(path),
    "pyarrow.parquet.read_table (2 threads)": lambda path: pq.read_table(path),
    "python + imports": lambda path: None,
}


def run_peer(name, path, repeat):
    """The peer `name` timed in a child process (--child): (wall s, CPU s, peak RSS MB)."""
    out, rss = run_child([sys.executable, __file__, "--child", name, str(path),
                          "--repeat", str(repeat)])
    wall, cpu = json.loads(out)
    return wall, cpu, rss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default=str(ROOT / "build" / "release" / "benchmarks" / "bench_csv_parse"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gzip", action="store_true", help="also the gzip-compressed numeric file")
    parser.add_argument("--only-gzip", action="store_true", help="only the gzip-compressed file")
    parser.add_argument("--parquet", action="store_true", help="also the tables as Parquet files")
    parser.add_argument("--only-parquet", action="store_true", help="only the Parquet files")
    parser.add_argument("--millions", type=int, default=1, help="rows, in millions")
    parser.add_argument("--child", nargs=2, metavar=("PARSER", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, path = args.child
        print(json.dumps(timed(lambda: PEERS[name](path), args.repeat)))
        return

    global ROWS
    ROWS = args.millions * 1_000_000
    DATA.mkdir(parents=True, exist_ok=True)
    m = args.millions
    numeric, mixed = f"numeric {m}M x 30", f"mixed {m}M x 25"
    files = {numeric: DATA / f"numeric_{m}m_x30.csv", mixed: DATA / f"mixed_{m}m.csv"}
    makers = {numeric: make_numeric, mixed: make_mixed}
    for name, path in files.items():
        if not path.exists():
            print(f"generating {path} ...", flush=True)
            makers[name](path)
    text_bytes = {name: os.path.getsize(path) for name, path in files.items()}
    if args.gzip or args.only_gzip:
        packed = files[numeric].with_suffix(".csv.gz")
        if not packed.exists():
            print(f"generating {packed} ...", flush=True)
            with open(packed, "wb") as out:
                subprocess.run(["gzip", "-6", "-c", str(files[numeric])], stdout=out,
                               check=True)
        name = f"{numeric}, gzip ({os.path.getsize(packed) / 1e6:.0f} MB on disk)"
        if args.only_gzip:
            files, text_bytes = {}, {}
        files[name] = packed
        text_bytes[name] = os.path.getsize(packed.with_suffix(""))

    if args.parquet or args.only_parquet:
        csv_files = dict(files)
        if args.only_parquet:
            files, text_bytes = {}, {}
        for name, path in csv_files.items():
            if name not in makers:
                continue
            packed = path.with_suffix(".parquet")
            if not packed.exists():
                print(f"generating {packed} ...", flush=True)
                pq.write_table(pacsv.read_csv(path), packed)
            label = f"{name}, Parquet ({os.path.getsize(packed) / 1e6:.0f} MB on disk)"
            files[label] = packed
            text_bytes[label] = os.path.getsize(path)

    load_before = os.getloadavg()
    rows = []
    for name, path in files.items():
        megabytes = text_bytes[name] / 1e6
        if path.suffix == ".parquet":
            results = {"tabula, 2 threads": run_tabula(args.bench, path, 2, args.repeat)}
            peers = ["pandas.read_parquet", "pyarrow.parquet.read_table (2 threads)"]
        else:
            results = {"tabula, 1 thread": run_tabula(args.bench, path, 1, args.repeat),
                       "tabula, 2 threads": run_tabula(args.bench, path, 2, args.repeat)}
            peers = ["pandas.read_csv (C engine)", "pyarrow.csv.read_csv (2 threads)"]
        for peer in peers:
            results[peer] = run_peer(peer, path, args.repeat)
        for parser_name, (seconds, cpu, rss) in results.items():
            rows.append((name, megabytes, parser_name, seconds, cpu, rss))
            print(f"{name}: {parser_name}: {seconds:.3f} s wall, {cpu:.3f} s CPU, {rss:.0f} MB",
                  flush=True)
    _, _, python_rss = run_peer("python + imports", files[next(iter(files))], 1)

    print()
    print(f"load average before/after: {load_before} / {os.getloadavg()}")
    print()
    print("(size: the CSV text's MB, for every format)")
    print(f"(max RSS of a Python peer includes {python_rss:.0f} MB for python + imports)")
    print("| file | size (MB) | parser | median wall s | MB/s | rows/s | CPU s | MB per CPU s "
          "| max RSS MB |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for name, megabytes, parser_name, seconds, cpu, rss in rows:
        print(f"| {name} | {megabytes:.0f} | {parser_name} | {seconds:.3f} | "
              f"{megabytes / seconds:.0f} | {ROWS / seconds / 1e6:.2f} M | {cpu:.2f} | "
              f"{megabytes / cpu:.0f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
