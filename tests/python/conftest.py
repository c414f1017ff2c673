"""Shared fixtures for the Python-side tests: the tabula binary and the data sets."""
import os
import pathlib
import subprocess
import sys

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


def add_build_package():
    """Puts the Python package that the binary's build assembled (<build>/python, see
    python/CMakeLists.txt) first on sys.path, so `import tabula` tests this build; with
    TABULA_PYTHON=installed, the installed package (pip install .) is tested instead."""
    if os.environ.get("TABULA_PYTHON") == "installed":  # CI's test of `pip install .`
        return
    binary = find_tabula()
    if binary:
        package = pathlib.Path(binary).resolve().parent / "python"
        if (package / "tabula").is_dir():
            sys.path.insert(0, str(package))


add_build_package()


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
