"""Keep the host's own counters out of the meter tests: discovery sees only fakes."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _no_host_hardware(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No powercap tree unless a test builds one; no GPU visible to CUDA or ROCm."""
    monkeypatch.setenv("GENWATT_POWERCAP_ROOT", str(tmp_path / "no-powercap"))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setenv("HIP_VISIBLE_DEVICES", "")
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    monkeypatch.delenv("GENWATT_NVML_RESOLUTION_S", raising=False)
