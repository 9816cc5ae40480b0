"""Fixtures of the store tests: a fresh store, and builders of realistic runs.

With ``--import-mode=importlib`` test modules cannot import helpers from a sibling
file, so the builders are handed out as fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from genwatt.meter.result import Method, PowerTimeline, Provenance, WindowResult
from genwatt.store import ResultsStore, RunRecord

# A fixed environment keeps tests off NVML and makes stored bytes predictable.
FAKE_ENV: dict[str, Any] = {"host": "test-host", "gpus": [{"index": 0, "name": "Fake GPU"}]}


def make_windows(start: float = 1_700_000_000.0, scale: float = 1.0) -> list[WindowResult]:
    """A "run" window with a measured GPU, an estimated CPU and a failed DRAM domain,
    and a nested "denoise" window with a timeline and idle subtraction."""
    run = WindowResult(
        name="run",
        started_at=start,
        duration_s=12.5,
        energy_j={"gpu:0": 1234.5 * scale, "cpu:0": 210.25 * scale},
        provenance={
            "gpu:0": Provenance.MEASURED,
            "cpu:0": Provenance.ESTIMATED,
            "dram:0": Provenance.MEASURED,
        },
        method={"gpu:0": Method.COUNTER, "cpu:0": Method.ESTIMATE, "dram:0": Method.COUNTER},
        flags={"gpu:0": ["window shorter than 2 counter updates"]},
        errors={"dram:0": "RAPL counter vanished"},
        assumptions={"cpu:0": {"tdp_w": 65.0, "utilisation": 0.4, "source": "psutil"}},
    )
    denoise = WindowResult(
        name="denoise",
        started_at=start + 1.0,
        duration_s=10.0,
        energy_j={"gpu:0": 1000.0 * scale},
        provenance={"gpu:0": Provenance.MEASURED},
        method={"gpu:0": Method.SAMPLING},
        parent="run",
        idle_subtracted_w={"gpu:0": 35.5},
        timeline=PowerTimeline(
            t_s=[0.1, 0.2, 0.30000000000000004], power_w={"gpu:0": [98.0, 101.5, 99.25]}
        ),
    )
    return [run, denoise]


def make_record(**overrides: Any) -> RunRecord:
    fields: dict[str, Any] = {
        "kind": "bench",
        "started_at": 1_700_000_000.0,
        "duration_s": 13.0,
        "config": {"model": "tiny-sd", "steps": 4, "size": [64, 64], "cache": {"kind": "fbc"}},
        "windows": make_windows(),
        "environment": FAKE_ENV,
        "extra": {"exit_code": 0, "country": "FR", "co2e_g": 0.031},
    }
    fields.update(overrides)
    return RunRecord(**fields)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ResultsStore]:
    with ResultsStore(tmp_path / "results.db") as opened:
        yield opened


@pytest.fixture(name="make_record")
def make_record_fixture() -> Callable[..., RunRecord]:
    return make_record


@pytest.fixture(name="make_windows")
def make_windows_fixture() -> Callable[..., list[WindowResult]]:
    return make_windows
