#!/usr/bin/env python3
"""Docs that run: every shell command in README.md and docs/*.md, run as a reader would.

The convention, checked here:
  * Every fenced block names its language. ```sh / ```bash blocks hold commands, one per line
    (continued by a trailing backslash or an open quote); ```console blocks hold commands on
    lines starting with "$ " (continued the same way), and the lines after a command up to the
    next "$ " are its output. Synopses, diagrams and sample files use text, json, toml, python:
    never run.
  * A block that cannot run in the test (a GPU, docker, root, a long benchmark) carries
    <!-- docs-test: skip (the reason) --> on the line above its fence; the reason is required.
    <!-- docs-test: python --> marks a block that needs the build's Python package: it runs
    where the build has one and is skipped, saying so, where it has none.
  * Shown output is checked loosely: whitespace is ignored, "..." (or "…") matches anything,
    and the rest must appear in the command's stdout or stderr, in order. Every command must
    exit 0 (a doc that shows a failure ends the command with `; echo "exit $?"`).
Each markdown file runs in its own scratch folder holding copies of data/, examples/ and
tests/data/, build/release standing for the build under test (links to its files), `tabula`
on PATH and HOME set to the scratch folder, so a page's blocks run in order and share what
earlier blocks wrote. A server started with "&" is stopped when its page ends; port 8000 is
replaced by a free port. Also checked: every src/, include/, tests/, kernels/, benchmarks/,
scripts/, docker/, examples/, data/, cmake/ path named in the docs exists, and every build
folder named is one that the Makefile, CI or scripts create.

Usage: run_docs.py --tabula BIN --build-dir DIR --source-dir DIR [FILE.md ...]
"""
import argparse
import concurrent.futures
import glob
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

MARKER = re.compile(r"<!--\s*docs-test:\s*(\S+)\s*(?:\((.*)\))?\s*-->")
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
RUN_LANGS = {"sh", "bash", "console"}
QUIET_LANGS = {"text", "json", "toml", "python", "ini", "yaml", "html", "csv"}
REPO_PATH = re.compile(
    r"(?<![\w/.$-])((?:src|include|tests|kernels|benchmarks|scripts|docker|examples|data|cmake)"
    r"/[A-Za-z0-9_.*{},/-]*[A-Za-z0-9_*}])")
BUILD_PATH = re.compile(r"(?<![\w/.$-])(build(?:-[a-z]+)?/[A-Za-z0-9_.-]*)")
# The build folders the Makefile, CI and scripts create; docs must name only these.
BUILD_DIRS = {"build/release", "build/cpu", "build/asan", "build/cuda", "build/fuzz",
              "build-gpu/", "build/gpu-packed"}
# Git-ignored folders that the docs' commands and benchmarks create: not files of the tree.
CREATED_PATHS = ("tests/fuzz/corpus-work", "benchmarks/data")
TIMEOUT_S = 120


class Block:
    def __init__(self, path, line, lang, lines, marker):
        self.path, self.line, self.lang, self.lines, self.marker = path, line, lang, lines, marker


def parse_blocks(path, text, errors):
    """The fenced blocks of a markdown file, with the docs-test marker above each."""
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang, indent = i + 1, m.group(2), len(m.group(1))
        j = i + 1
        while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
            j += 1
        body = [l[indent:] if l[:indent].strip() == "" else l for l in lines[i + 1:j]]
        prev = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        mm = MARKER.search(prev)
        marker = None
        if mm:
            marker = (mm.group(1), (mm.group(2) or "").strip())
            if marker[0] == "python":
                pass  # resolved against the build in needs_python
            elif marker[0] != "skip":
                errors.append(f"{path}:{i}: unknown docs-test marker '{marker[0]}'")
            elif not marker[1]:
                errors.append(f"{path}:{i}: docs-test: skip needs a reason in parentheses")
        if lang == "":
            errors.append(f"{path}:{start}: fenced block without a language: use sh, bash or "
                          "console for commands that run, text for synopses and diagrams")
        elif lang not in RUN_LANGS | QUIET_LANGS:
            errors.append(f"{path}:{start}: unknown fence language '{lang}'")
        blocks.append(Block(path, start, lang, body, marker))
        i = j + 1
    return blocks


def command_complete(text):
    if text.endswith("\\"):
        return False
    try:
        shlex.split(text, comments=True)
        return True
    except ValueError:  # an open quote: the command goes on on the next line
        return False


def console_commands(block, errors):
    """[(line, command, expected output lines)] of a console block."""
    out, i, lines = [], 0, block.lines
    while i < len(lines):
        if not lines[i].startswith("$ "):
            if lines[i].strip():
                errors.append(f"{block.path}:{block.line + i + 1}: output before any command")
            i += 1
            continue
        first, cmd = i, lines[i][2:]
        while not command_complete(cmd) and i + 1 < len(lines):
            i += 1
            cmd += "\n" + lines[i]
        i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        out.append((block.line + first + 1, cmd, expected))
    return out


def script_commands(block):
    """[(line, command, [])] of a sh/bash block: each command is checked on its own."""
    out, i, lines = [], 0, block.lines
    while i < len(lines):
        if not lines[i].strip() or lines[i].lstrip().startswith("#"):
            i += 1
            continue
        first, cmd = i, lines[i]
        while not command_complete(cmd) and i + 1 < len(lines):
            i += 1
            cmd += "\n" + lines[i]
        out.append((block.line + first + 1, cmd, []))
        i += 1
    return out


def output_pattern(expected):
    text = "".join("".join(l.split()) for l in expected)
    if not text:
        return None
    parts = re.split(r"\.\.\.|…", text)
    return re.compile(".*?".join(re.escape(p) for p in parts), re.S)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_port(cmd, port):
    return re.sub(r"(localhost:|127\.0\.0\.1:|--port )8000\b", rf"\g<1>{port}", cmd)


def make_scratch(args, root):
    for folder in ("data", "examples", "tests/data"):
        shutil.copytree(os.path.join(args.source_dir, folder), os.path.join(root, folder))
    # build/release: links to every entry of the build under test, in a folder of its own, so
    # the Testing/ logs of a ctest run from a doc stay here, away from the outer ctest's.
    release = os.path.join(root, "build", "release")
    os.makedirs(release)
    build = os.path.abspath(args.build_dir)
    for entry in os.listdir(build):
        if entry != "Testing":
            os.symlink(os.path.join(build, entry), os.path.join(release, entry))
    bindir = os.path.join(root, ".bin")
    os.makedirs(bindir)
    os.symlink(os.path.abspath(args.tabula), os.path.join(bindir, "tabula"))
    venv = os.path.join(args.source_dir, ".venv")
    if os.path.isdir(venv):
        os.symlink(venv, os.path.join(root, ".venv"))
    return bindir


def page_script(steps, outdir):
    """One bash script for a page: each step's output and status to outdir/N.{out,err,rc}."""
    lines = ["set -u", "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT"]
    for n, (_, cmd, _) in enumerate(steps):
        o, e, rc = (os.path.join(outdir, f"{n}.{x}") for x in ("out", "err", "rc"))
        if cmd.rstrip().endswith("&") and not cmd.rstrip().endswith("&&"):
            lines.append(f"{cmd.rstrip()[:-1]} >{o} 2>{e} &")
            lines.append(f"echo 0 >{rc}")
        else:
            lines.append(f"{{\n{cmd}\n}} >{o} 2>{e} </dev/null")
            lines.append(f"s=$?; echo $s >{rc}; [ $s -eq 0 ] || exit 0")
    return "\n".join(lines) + "\n"


def needs_python(args, blocks):
    """Blocks marked <!-- docs-test: python --> use the Python package that the build assembles
    in <build>/python (python/CMakeLists.txt): they run where it is, and are skipped, saying
    why, in a build without it (sanitizers, or no nanobind)."""
    has_package = os.path.isdir(os.path.join(args.build_dir, "python", "tabula"))
    for b in blocks:
        if b.marker and b.marker[0] == "python":
            b.marker = None if has_package else (
                "skip", "this build has no Python package (<build>/python: built where nanobind "
                "is found, not under sanitizers)")
    return blocks


def run_page(args, path, blocks, errors):
    steps = []
    for b in blocks:
        if b.lang not in RUN_LANGS or b.marker:
            continue
        if b.lang == "console":
            steps += console_commands(b, errors)
        else:
            steps += script_commands(b)
    if not steps:
        return []
    port = free_port()
    steps = [(line, with_port(cmd, port), exp) for line, cmd, exp in steps]
    failures = []
    with tempfile.TemporaryDirectory(prefix="tabula-docs-") as root:
        bindir = make_scratch(args, root)
        outdir = os.path.join(root, ".out")
        os.makedirs(outdir)
        # HOME is the scratch folder too: "~/..." in a doc writes nowhere else.
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"], HOME=root)
        proc = subprocess.Popen(["bash", "-c", page_script(steps, outdir)], cwd=root, env=env,
                                start_new_session=True)
        try:
            proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            failures.append(f"{path}: timed out after {TIMEOUT_S} s")
        for n, (line, cmd, expected) in enumerate(steps):
            rc_file = os.path.join(outdir, f"{n}.rc")
            out_file = os.path.join(outdir, f"{n}.out")
            if not os.path.exists(out_file):
                break
            out = open(out_file, errors="replace").read()
            err = open(os.path.join(outdir, f"{n}.err"), errors="replace").read()
            # No status file: the command ended the page's shell itself (exit, exec).
            rc = (open(rc_file).read().strip() if os.path.exists(rc_file) else
                  f"{proc.returncode} (the command ended the shell)")
            where = f"{path}:{line}: {cmd.splitlines()[0]}"
            if rc != "0":
                failures.append(f"{where}\n  exit status {rc}\n  stdout: {out[-2000:]}\n"
                                f"  stderr: {err[-2000:]}")
                break
            pattern = output_pattern(expected)
            squash = lambda s: "".join(s.split())
            shown = (out, err, out + err, err + out)
            if pattern and not any(pattern.search(squash(s)) for s in shown):
                failures.append(f"{where}\n  shown output not found:\n    " +
                                "\n    ".join(expected) + f"\n  stdout: {out[-2000:]}\n"
                                f"  stderr: {err[-2000:]}")
    return failures


def path_variants(p):
    """'a/{b,c}.cpp' -> a/b.cpp, a/c.cpp; 'a/b.hpp/.cpp' -> a/b.hpp, a/b.cpp."""
    brace = re.search(r"\{([^}]*)\}", p)
    if brace:
        return [v for alt in brace.group(1).split(",")
                for v in path_variants(p[:brace.start()] + alt + p[brace.end():])]
    m = re.match(r"(.*)(\.\w+)/(\.\w+)$", p)
    if m:
        return [m.group(1) + m.group(2), m.group(1) + m.group(3)]
    return [p]


def check_paths(args, path, text, blocks, errors):
    for m in REPO_PATH.finditer(text):
        p = m.group(1).rstrip(".")
        if p.startswith(CREATED_PATHS):
            continue
        for v in path_variants(p):
            # "kernels/histogram" names the family kernels/histogram.cu and .cuh.
            full = os.path.join(args.source_dir, v)
            if not glob.glob(full) and not glob.glob(full + ".*"):
                line = text.count("\n", 0, m.start()) + 1
                errors.append(f"{path}:{line}: names '{v}', which does not exist")
    # Skipped blocks run elsewhere (a container's /src/build, a GPU machine): not our folders.
    lines = text.splitlines(keepends=True)
    for b in blocks:
        if b.marker:
            for k in range(b.line, b.line + len(b.lines)):
                lines[k] = "\n"
    text = "".join(lines)
    for m in BUILD_PATH.finditer(text):
        p = m.group(1)
        if not any(p == d or p.startswith(d.rstrip("/") + "/") or d.startswith(p)
                   for d in BUILD_DIRS) and p != "build/":
            line = text.count("\n", 0, m.start()) + 1
            errors.append(f"{path}:{line}: names '{p}', a folder the build does not create "
                          f"(known: {', '.join(sorted(BUILD_DIRS))})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tabula", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    files = args.files or ["README.md"] + sorted(
        os.path.relpath(f, args.source_dir)
        for f in glob.glob(os.path.join(args.source_dir, "docs", "*.md")))
    errors, pages = [], []
    for f in files:
        text = open(os.path.join(args.source_dir, f)).read()
        pages.append((f, needs_python(args, parse_blocks(f, text, errors))))
        check_paths(args, f, text, pages[-1][1], errors)
    failures = list(errors)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for result in pool.map(lambda p: run_page(args, p[0], p[1], failures), pages):
            failures += result
    ran = sum(1 for _, bs in pages for b in bs if b.lang in RUN_LANGS and not b.marker)
    skipped = [(b.path, b.line, b.marker[1]) for _, bs in pages for b in bs
               if b.lang in RUN_LANGS and b.marker]
    for p, line, reason in skipped:
        print(f"skipped {p}:{line}: {reason}")
    print(f"{ran} blocks run, {len(skipped)} skipped, {len(failures)} failures")
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
