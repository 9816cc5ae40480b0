"""The report in a real browser: headless Chromium loads it, runs its script, draws it.

Chromium is run twice per page, with no service around it: ``--dump-dom`` prints the DOM
after the load event (the page's own script has then stamped each figure's rendered
size and any error into ``data-`` attributes), and ``--screenshot`` saves what a
1280-pixel-wide laptop screen shows. ``--enable-logging=stderr`` puts every console
message on stderr as a ``CONSOLE`` line; the page must print none (a blocked request
or a script error would).

Skipped, with the reason, where Chromium is not installed; where
``GENWATT_REQUIRE_CHROMIUM`` is set (CI sets it) a missing Chromium fails instead.
``GENWATT_SAVE_SCREENSHOT=1`` also copies the screenshot to docs/report-screenshot.png.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from genwatt.report import write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
REQUIRE_ENV = "GENWATT_REQUIRE_CHROMIUM"
SAVE_ENV = "GENWATT_SAVE_SCREENSHOT"
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "report-screenshot.png"
WINDOW = (1280, 2000)
TIMEOUT_S = 120


@pytest.fixture(scope="module")
def chromium() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        message = (
            "headless Chromium is not installed (Debian: apt-get install chromium; "
            ".ci/run installs it), so the report cannot be checked in a browser"
        )
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{REQUIRE_ENV} is set but {message}")
        pytest.skip(message)
    return found


@dataclass
class Loaded:
    dom: str
    console: list[str]


def _run(chromium: str, page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
        page.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def load(chromium: str, page: Path, tmp_path: Path) -> Loaded:
    window = f"--window-size={WINDOW[0]},{WINDOW[1]}"
    result = _run(chromium, page, tmp_path / "profile-dom", window, "--dump-dom")
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return Loaded(dom=result.stdout, console=console)


def _root_attributes(dom: str) -> str:
    match = re.search(r"<html[^>]*>", dom)
    assert match, dom[:500]
    return match.group(0)


def _check_loaded_cleanly(loaded: Loaded, figures: int) -> list[str]:
    """The page's script ran to the end, recorded no error, and nothing was logged."""
    root = _root_attributes(loaded.dom)
    assert not loaded.console, loaded.console
    assert "data-gw-errors" not in root, root
    assert f'data-gw-loaded="{figures}"' in root, root
    return re.findall(r"<figure\b.*?</figure>", loaded.dom, flags=re.S)


def test_report_loads_without_errors_and_draws_every_figure(
    chromium: str, synth, tmp_path: Path
) -> None:
    store = synth.write_store(tmp_path / "all.db", [*synth.runs(), *synth.mitigation_runs()])
    result = write_report(store, tmp_path / "report.html")  # the real predictor, if any
    assert result.figures == 12  # 11, and the Pareto figure of "Cutting the energy"
    loaded = load(chromium, result.path, tmp_path)
    figures = _check_loaded_cleanly(loaded, result.figures)
    assert len(figures) == result.figures
    assert sum('data-section="mitigation"' in f for f in figures) == 1
    for figure in figures:
        size = re.search(r'data-gw-rendered="(\d+)x(\d+)"', figure)
        assert size, figure[:300]
        width, height = int(size.group(1)), int(size.group(2))
        assert width >= 1000 and height >= 150, (width, height, figure[:200])  # laptop width
        assert figure.count("<path") + figure.count("<use") >= 20, figure[:300]
        assert "<figcaption>" in figure

    screenshot = tmp_path / "report-screenshot.png"
    _run(
        chromium,
        result.path,
        tmp_path / "profile-shot",
        f"--screenshot={screenshot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    )
    from PIL import Image

    with Image.open(screenshot) as image:
        assert image.size == WINDOW
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 50  # not a blank page
    if os.environ.get(SAVE_ENV) == "1":
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, DOCS_SCREENSHOT)


def test_the_suite_sections_load_without_errors(chromium: str, synth, tmp_path: Path) -> None:
    store = synth.write_store(tmp_path / "suite.db", synth.suite_runs())
    result = write_report(store, tmp_path / "suite.html", predictor=synth.FakePredictor())
    assert result.figures == 2  # energy by task, energy by batch size
    figures = _check_loaded_cleanly(load(chromium, result.path, tmp_path), result.figures)
    assert [re.search(r'data-section="([^"]+)"', f).group(1) for f in figures] == [
        "suite-map",
        "suite-batch",
    ]


def test_scripts_in_user_strings_do_not_run(chromium: str, xss_runs, synth, tmp_path: Path) -> None:
    store = synth.write_store(tmp_path / "xss.db", xss_runs)
    result = write_report(store, tmp_path / "xss.html", predictor=synth.FakePredictor())
    loaded = load(chromium, result.path, tmp_path)
    _check_loaded_cleanly(loaded, result.figures)
    assert loaded.dom.count("<script") == 1  # the page's own, nothing injected
    assert "<img" not in loaded.dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in loaded.dom  # shown as text
