"""Shared fixtures for the Python-side tests: the tabula binary and the data sets."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


def find_tabula():
    """The binary under test: $TABULA_BIN (set by `make test`), else the default build."""
    candidates = [os.environ.get("TABULA_BIN", "")]
    candidates += [str(ROOT / "build" / name / "tabula") for name in ("release", "cpu")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def tabula_bin():
    binary = find_tabula()
    if binary is None:
        pytest.skip("no tabula binary: run `make` first or set TABULA_BIN")
    return binary


@pytest.fixture(scope="session")
def run_tabula(tabula_bin):
    """Runs `tabula ARGS...`; returns the CompletedProcess (text mode), asserting the exit code."""

    def run(*args, expect=0):
        result = subprocess.run([tabula_bin, *map(str, args)], capture_output=True, text=True)
        if expect is not None:
            assert result.returncode == expect, (
                f"tabula {' '.join(map(str, args))} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    return run


@pytest.fixture(scope="session")
def data_dir():
    return DATA
