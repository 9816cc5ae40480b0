"""``genwatt bench`` names its report after its store, and its default grid runs as asked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from genwatt.cli.report import finish_report
from genwatt.models import get_model, list_models, resolve_params
from genwatt.run.bench_grid import default_grid
from genwatt.store.records import RunRecord
from genwatt.store.store import ResultsStore


def _store(path: Path, run: RunRecord) -> Path:
    with ResultsStore(path) as results:
        results.add(run)
    return path


def test_each_store_gets_its_own_report_and_says_where(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    estimated_run: Callable[..., RunRecord],
) -> None:
    def run(model: str) -> RunRecord:
        return estimated_run(
            {"model": model, "device": "cpu", "num_frames": 5, "steps": 2},
            environment={"cpu": {"model": "Test CPU"}, "gpus": []},
            sweep="s",
            config_key="k",
        )

    first = finish_report(_store(tmp_path / "first.db", run("wan-tiny")), None)
    second = finish_report(_store(tmp_path / "second.db", run("cogvideox-tiny")), None)
    assert first == tmp_path / "first-report.html"
    assert second == tmp_path / "second-report.html"
    assert "wan-tiny" in first.read_text(encoding="utf-8")  # not overwritten by the second
    assert "cogvideox-tiny" not in first.read_text(encoding="utf-8")
    out = capsys.readouterr().out
    assert f"report: {first}" in out and f"report: {second}" in out


def _video_models() -> list[str]:
    return [m.name for m in list_models() if m.defaults.num_frames and m.frame_rule]


@pytest.mark.parametrize("name", _video_models())
def test_the_default_grid_asks_for_frame_counts_the_model_keeps(name: str) -> None:
    spec = get_model(name)
    frames = default_grid(name).num_frames
    assert frames, name
    for count in frames:
        resolved = resolve_params(spec, num_frames=count)
        assert resolved.num_frames == count, (name, count, resolved.notes)
        assert not [n for n in resolved.notes if "num_frames" in n], resolved.notes


def test_wan_gets_4k_plus_1_frames_around_its_defaults() -> None:
    assert default_grid("wan2.1-t2v-1.3b").num_frames == [21, 41, 81]
