"""write_report: files where asked (or next to the store), PNGs, and clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from genwatt.errors import GenwattError, StoreError
from genwatt.report import ReportError, write_pngs, write_report


def test_report_next_to_the_store_with_a_sweep_filter(store_path: Path, synth) -> None:
    result = write_report(store_path, sweep="sweep-b", predictor=synth.FakePredictor())
    assert result.path == store_path.parent / "synthetic-report.html"  # named after its store
    assert result.runs == 5  # cogvideox, two sd-tiny and a failed one, llama
    html = result.path.read_text(encoding="utf-8")
    assert "sweep: <code>sweep-b</code>" in html and synth.WAN not in html
    assert result.png_paths == []


def test_pngs_have_safe_names(built, tmp_path: Path) -> None:
    paths = write_pngs(built.figures, tmp_path / "png")
    assert len(paths) == 11
    for path in paths:
        assert re.fullmatch(r"\d\d-(scaling|phases|steps|timelines)-[a-z0-9-]+\.png", path.name)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (
        paths[0].name == "01-scaling-wan2-1-t2v-1-3b-random-weights-cuda-nvidia-h100-80gb-hbm3.png"
    )


def test_nothing_to_report_is_a_user_error_that_lists_the_sweeps(store_path: Path) -> None:
    with pytest.raises(ReportError, match=r"sweep 'nope'.*stored sweeps: sweep-a, sweep-b"):
        write_report(store_path, sweep="nope")
    with pytest.raises(StoreError, match="no results store"):
        write_report(store_path.parent / "missing.db")


def test_an_unwritable_output_is_a_user_error(store_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(ReportError, match="cannot write the report") as caught:
        write_report(store_path, folder, kind="measure")
    assert isinstance(caught.value, GenwattError)
    assert not list(tmp_path.glob(".a-folder.*"))  # no temporary file left behind
