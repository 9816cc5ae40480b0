"""``genwatt report`` end to end, and the report ``genwatt bench`` writes when it ends."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from genwatt.meter.result import PowerTimeline, WindowResult
from genwatt.store.records import RunRecord
from genwatt.store.store import ResultsStore

XSS = "<script>alert(1)</script>"


def _generation(
    sweep_run: Callable[..., RunRecord],
    window: Callable[..., WindowResult],
    model: str,
    frames: int,
    energy_j: float,
) -> RunRecord:
    return sweep_run(
        {
            "model": model,
            "device": "cpu",
            "num_frames": frames,
            "height": 32,
            "width": 32,
            "steps": 2,
        },
        [
            window(energy_j, "generation"),
            window(energy_j / 4, "text_encode", parent="generation"),
            window(energy_j / 4, "step:0", parent="generation"),
            window(energy_j / 4, "step:1", parent="generation"),
            window(energy_j / 8, "vae_decode", parent="generation"),
        ],
        environment={"cpu": {"model": "Test CPU"}, "gpus": []},
        sweep="s1",
        config_key=f"{model}-{frames}",
    )


@pytest.fixture
def store(
    tmp_path: Path,
    estimated_run: Callable[..., RunRecord],
    estimated_window: Callable[..., WindowResult],
) -> Path:
    path = tmp_path / "store" / "r.db"
    timeline = PowerTimeline(t_s=[0.5, 1.0], power_w={"cpu:0": [10.0, 11.0]})
    with ResultsStore(path) as results:
        for frames, energy_j in ((5, 1.0), (9, 1.8)):
            results.add(_generation(estimated_run, estimated_window, "wan-tiny", frames, energy_j))
        results.add(_generation(estimated_run, estimated_window, XSS, 5, 3.0))
        results.add(
            estimated_run(
                {"command": "sleep 1"},
                [estimated_window(10.5, "run", timeline=timeline)],
                kind="measure",
                environment={"cpu": {"model": "Test CPU"}, "gpus": []},
            )
        )
    return path


def test_report_writes_html_and_pngs(genwatt, store: Path, tmp_path: Path) -> None:
    out, png = tmp_path / "out" / "report.html", tmp_path / "png"
    result = genwatt("report", "--store", str(store), "-o", str(out), "--png", str(png))
    assert result.returncode == 0, result.stderr
    assert f"wrote the report of 4 runs (6 figures) to {out}" in result.stdout
    assert "wrote 6 PNG figures" in result.stdout
    html = out.read_text(encoding="utf-8")
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Every energy figure in this report is estimated" in html
    assert len(list(png.glob("*.png"))) == 6


def test_report_defaults_next_to_the_store_and_filters(genwatt, store: Path) -> None:
    result = genwatt("report", "--store", str(store), "--kind", "measure", "--country", "FR")
    assert result.returncode == 0, result.stderr
    html = (store.parent / "r-report.html").read_text(encoding="utf-8")  # named after r.db
    assert "sleep 1" in html and "wan-tiny" not in html
    assert "CO2e on the grid of France" not in html  # no generation: no leaderboard
    assert "163 µg" in html  # 10.5 J at 56 g/kWh, the French grid


def test_report_user_errors_are_one_line(genwatt, store: Path, tmp_path: Path) -> None:
    result = genwatt("report", "--store", str(store), "--sweep", "nope")
    assert result.returncode == 2
    assert "no run in" in result.stderr and "stored sweeps: s1" in result.stderr
    assert "Traceback" not in result.stderr
    missing = genwatt("report", "--store", str(tmp_path / "missing.db"))
    assert missing.returncode == 2 and "no results store" in missing.stderr


@pytest.mark.slow
def test_bench_writes_the_report_and_keeps_stdout_json(genwatt, tmp_path: Path) -> None:
    store = tmp_path / "bench" / "b.db"
    result = genwatt(
        "bench",
        *("--frames", "5", "--height", "32", "--width", "32", "--steps", "2"),
        *("--repeats", "1", "--warmup", "0", "--store", str(store), "--json"),
        timeout_s=180,
    )
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # the report's path went to stderr
    report = store.parent / "b-report.html"  # named after b.db
    assert f"report: {report}" in result.stderr
    assert "wan-tiny" in report.read_text(encoding="utf-8")


def test_two_stores_in_one_folder_keep_their_own_reports(genwatt, store: Path) -> None:
    other = store.with_name("other.db")
    other.write_bytes(store.read_bytes())
    for path in (store, other):
        result = genwatt("report", "--store", str(path), "--kind", "measure")
        assert result.returncode == 0, result.stderr
        assert str(path.with_name(f"{path.stem}-report.html")) in result.stdout
    assert (store.parent / "r-report.html").is_file()
    assert (store.parent / "other-report.html").is_file()
    assert not (store.parent / "genwatt-report.html").exists()
