#!/usr/bin/env python3
"""The docs runner catches what it promises to: run_docs.py on a made-up tree whose pages hold
one mistake each must fail naming every one of them, and pass the same tree once they are fixed.

Usage: run_docs_selftest.py --tabula BIN --build-dir DIR
"""
import argparse
import os
import subprocess
import sys
import tempfile

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run_docs.py")

GOOD = """# good
```console
$ tabula --version
tabula ...
$ printf 'a   b\\n' > f.txt && cat f.txt
a b
$ echo '{"x": 1,
  "y": 2}'
{"x": 1, "y": 2}
```
The page's blocks share their folder:
```sh
test -f f.txt
ls data/sample.csv
```
<!-- docs-test: skip (fails on purpose: skipped blocks never run) -->
```sh
exit 3
```
```text
tabula synopsis --not-run
```
Paths: `src/real.cpp`, `src/{real,other}.cpp`, `src/real.hpp/.cpp`, `build/release/tabula`.
"""

# (page text, what the runner's failure line must say)
BAD = [
    ("```console\n$ false\n```\n", "exit status 1"),
    ("```console\n$ echo hello\ngoodbye\n```\n", "shown output not found"),
    ("```\nuntagged\n```\n", "fenced block without a language"),
    ("<!-- docs-test: skip -->\n```sh\ntrue\n```\n", "needs a reason"),
    ("See `src/missing.cpp`.\n", "names 'src/missing.cpp', which does not exist"),
    ("Run `build-cuda/tabula`.\n", "a folder the build does not create"),
    ("```console\n$ true\n$ exit 4\n$ echo never\n```\n", "exit status 4"),
    ("```sh\n# a comment\nfalse\ntrue\n```\n", "exit status 1"),
]


def make_tree(root, pages):
    for folder in ("data", "examples", "tests/data", "src", "docs"):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    for name in ("src/real.cpp", "src/real.hpp", "src/other.cpp"):
        open(os.path.join(root, name), "w").close()
    with open(os.path.join(root, "data", "sample.csv"), "w") as f:
        f.write("a\n1\n")
    for name, text in pages.items():
        with open(os.path.join(root, name), "w") as f:
            f.write(text)


def run(args, root, build_dir=None):
    proc = subprocess.run([sys.executable, RUNNER, "--tabula", args.tabula, "--build-dir",
                           build_dir or args.build_dir, "--source-dir", root],
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tabula", required=True)
    ap.add_argument("--build-dir", required=True)
    args = ap.parse_args()
    problems = []
    with tempfile.TemporaryDirectory() as root:
        make_tree(root, {"README.md": GOOD})
        code, out = run(args, root)
        if code != 0 or "2 blocks run, 1 skipped, 0 failures" not in out:
            problems.append(f"the good page did not pass as expected (exit {code}):\n{out}")
    with tempfile.TemporaryDirectory() as root:
        pages = {"README.md": GOOD}
        pages.update({f"docs/bad{i}.md": text for i, (text, _) in enumerate(BAD)})
        make_tree(root, pages)
        code, out = run(args, root)
        if code != 1:
            problems.append(f"the bad pages exited {code}, not 1:\n{out}")
        fails = [l for l in out.splitlines() if l.startswith("FAIL ")]
        for i, (_, expected) in enumerate(BAD):
            page = f"docs/bad{i}.md"
            # The failure line, or the lines after it up to the next FAIL, say what went wrong.
            blocks = out.split("FAIL ")
            if not any(b.startswith(page) and expected in b for b in blocks):
                problems.append(f"{page}: no failure saying '{expected}':\n{out}")
        if "echo never" in out or len(fails) != len(BAD):
            problems.append(f"expected {len(BAD)} failures, one per bad page:\n{out}")
    # A block marked python runs where the build has the Python package, else is skipped.
    with tempfile.TemporaryDirectory() as root, tempfile.TemporaryDirectory() as build:
        make_tree(root, {"README.md": "<!-- docs-test: python -->\n```sh\nexit 5\n```\n"})
        code, out = run(args, root, build)
        if code != 0 or "no Python package" not in out:
            problems.append(f"a python block without the package was not skipped:\n{out}")
        os.makedirs(os.path.join(build, "python", "tabula"))
        code, out = run(args, root, build)
        if code != 1 or "exit status 5" not in out:
            problems.append(f"a python block with the package did not run:\n{out}")
    for p in problems:
        print("FAIL " + p)
    print("runner self-test: " + ("passed" if not problems else f"{len(problems)} problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
