"""Tracker tests: a clean warn-once memory, no carbon setting from the developer's shell,
and no host counter."""

from __future__ import annotations

from pathlib import Path

import pytest

from genwatt.trackers import dispatch


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(dispatch, "_warned", set())
    for name in ("GENWATT_COUNTRY", "GENWATT_CLOUD", "GENWATT_PUE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GENWATT_POWERCAP_ROOT", str(tmp_path / "no-powercap"))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
