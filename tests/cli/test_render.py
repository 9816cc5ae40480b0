"""Rich output of the commands: whole numbers in 120 columns, a headline, no infinities."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from genwatt.analysis.scaling import fit_power_law
from genwatt.analysis.summary import ConfigSummary
from genwatt.cli import render
from genwatt.meter.result import Provenance

MODEL = "wan2.1-t2v-14b"


def _summary(frames: int, energy_j: float, *, failed: int = 0) -> ConfigSummary:
    summary = ConfigSummary(
        key=f"{frames}",
        config={"model": MODEL, "num_frames": frames, "height": 720, "width": 1280, "steps": 50},
    )
    summary.runs, summary.failed = 3, failed
    summary.latency_s, summary.energy_j = [1234.567], [energy_j]
    summary.phases_j = {
        "text_encode": [energy_j * 0.01],
        "denoise": [energy_j * 0.9],
        "vae_decode": [energy_j * 0.08],
        "other": [energy_j * 0.01],
    }
    summary.provenance = Provenance.MEASURED
    return summary


def _report(summaries: list[ConfigSummary]) -> SimpleNamespace:
    rows = [s.scaling_row() for s in summaries]
    return SimpleNamespace(
        spec=SimpleNamespace(model=MODEL, weights="pretrained", device="cuda"),
        summaries=summaries,
        energy_fit=fit_power_law(rows, "energy_j"),
        phase_fit=fit_power_law(rows, "denoise_j"),
        latency_fit=fit_power_law(rows, "latency_s"),
        weights_note="pretrained weights",
        outcome=SimpleNamespace(ran=2, skipped=0, failed=1, retryable=0, placement=None),
        sweep="bench-x",
        store="/tmp/x.db",
    )


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Console:
    """Every console the renderer asks for is one 120-column recording console."""
    out = Console(width=120, record=True, highlight=False)
    monkeypatch.setattr(render, "console", lambda *args, **kwargs: out)
    return out


def test_sweep_table_keeps_every_number_whole_in_120_columns(recorded: Console) -> None:
    render.print_sweep_report(_report([_summary(81, 1234567.0, failed=1), _summary(21, 12345.6)]))
    text = recorded.export_text()
    for number in ("1,230,000", "1,110,000", "98800", "12300", "1234.567", "343 Wh", "3.43 Wh"):
        assert number in text, number
    assert "…" not in text and "e+0" not in text


def test_sweep_report_opens_with_the_headline(recorded: Console) -> None:
    render.print_sweep_report(_report([_summary(81, 1234567.0), _summary(21, 12345.6)]))
    first = recorded.export_text().replace("\n", " ")
    assert first.startswith(f"{MODEL} at 81f 1280x720 50 steps (the model's default settings): ")
    assert "one generation = 343 Wh (measured)" in first
    assert "world-average grid" in first and "denoise: 90 %" in first


def test_two_point_fits_print_no_infinite_interval(recorded: Console) -> None:
    render.print_sweep_report(_report([_summary(81, 1234567.0), _summary(21, 12345.6)]))
    text = recorded.export_text()
    assert "inf" not in text
    assert "CI needs ≥3 points (have 2)" in text


def _measurement(energy_j: float, co2e_g: float) -> dict[str, Any]:
    from genwatt.carbon import WORLD, equivalents

    return {
        "net_of_idle": False,
        "energy_j": {"cpu:0": energy_j},
        "provenance": {"cpu:0": "estimated"},
        "errors": {},
        "flags": {},
        "carbon": {"intensity": WORLD.to_dict(), "pue": 1.0},
        "duration_s": 0.01,
        "energy_j_total": energy_j,
        "provenance_total": "estimated",
        "co2e_g": co2e_g,
        "equivalents": [e.to_dict() for e in equivalents(energy_j, co2e_g)],
        "exit_code": 0,
    }


def test_a_tiny_measurement_prints_no_scientific_notation(recorded: Console) -> None:
    render.print_measurement(_measurement(0.0114, 1.3e-6), "true")
    text = recorded.export_text()
    assert "e-0" not in text, text
    assert "1.3 µg CO2e" in text
    assert "less than 0.1 mm by petrol car" in text  # 5.2e-09 km


def test_a_large_measurement_keeps_its_joules_whole(recorded: Console) -> None:
    render.print_measurement(_measurement(123456.0, 16.46), "python3 train.py")
    text = recorded.export_text()
    assert "123500" in text and "e+0" not in text


def test_a_sweep_run_on_ray_says_where_it_ran(recorded: Console) -> None:
    from genwatt.run.executor import Placement

    report = _report([_summary(81, 1234567.0), _summary(21, 12345.6)])
    report.outcome.placement = Placement(
        "ray", nodes={"a", "b"}, gpus={"GPU-1", "GPU-2", "GPU-3"}, jobs=2, retried=1
    )
    render.print_sweep_report(report)
    text = recorded.export_text().replace("\n", " ")
    assert "ran on ray: 2 configurations on 2 nodes, 3 GPUs" in text
    assert "1 retried after a worker or node died" in text
