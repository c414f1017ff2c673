"""The evaluation report rendered by a real browser (Debian's chromium, headless): the page
loads from a file with no network, and the rendered DOM holds every chart `tabula evaluate`
drew. Skips, saying why, where chromium is not installed (scripts/setup.sh installs it)."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import DATA

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


def render(page, profile):
    """The DOM after loading and running the page, as chromium serialises it."""
    result = subprocess.run(
        [BROWSER, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom",
         page.as_uri()],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.skipif(BROWSER is None, reason="chromium not installed (apt-get install chromium)")
@pytest.mark.parametrize("file,target,kind", [("titanic.csv", "survived", "forest"),
                                              ("diabetes.csv", "target", "ridge")])
def test_report_renders_in_headless_chromium(run_tabula, tmp_path, file, target, kind):
    model, page = tmp_path / "m.tbl", tmp_path / "report.html"
    run_tabula("train", "--data", DATA / file, "--target", target, "--model", kind, "--out", model)
    run_tabula("evaluate", "--model", model, "--data", DATA / file, "--report", page,
               "--n-repeats", "2")
    source = page.read_text()
    # Self-contained: nothing to fetch (the SVG namespace URI is a name, not a request).
    assert not re.search(r"\b(src|href)\s*=", source)
    assert "<script" not in source and "@import" not in source and "url(" not in source
    dom = render(page, tmp_path / "profile")
    assert "<h1>Evaluation:" in dom
    charts = re.findall(r"<svg\b", dom)
    if kind == "forest":
        assert len(charts) == 6  # confusion, ROC, PR, calibration, model and permutation bars
        assert len(re.findall(r"<rect class=\"cell\"", dom)) == 4  # 2 x 2 classes
        assert len(re.findall(r"<polyline", dom)) == 3
    else:
        assert len(charts) == 4  # two scatters, coefficients, permutation bars
        assert len(re.findall(r"<circle", dom)) == 2 * 442
    assert len(re.findall(r"<rect class=\"bar\"", dom)) >= 3
