"""What ``genwatt env`` reports: every domain, how it is measured, what is missing."""

from __future__ import annotations

import pytest

from genwatt.meter.inventory import inventory
from genwatt.meter.sources import amd, nvml, rapl
from genwatt.meter.sources.base import MissingCounter


def test_inventory_describes_every_domain_and_closes_sources(
    fake_source, monkeypatch: pytest.MonkeyPatch
) -> None:
    gpu = fake_source("gpu:0", name="nvml", resolution_s=0.1)
    monkeypatch.setattr(nvml, "discover", lambda: ([gpu], []))
    monkeypatch.setattr(amd, "discover", lambda: ([], [MissingCounter("amdsmi", "why", "fix")]))
    report = inventory()
    assert [d["domain"] for d in report["domains"]] == ["gpu:0", "cpu:0", "dram:0"]
    assert report["domains"][0] == {
        "domain": "gpu:0",
        "kind": "gpu",
        "source": "nvml",
        "method": "counter",
        "provenance": "measured",
        "device": "fake gpu:0",
        "resolution_s": 0.1,
        "flags": [],
        "assumptions": {},
    }
    assert report["domains"][1]["provenance"] == "estimated"
    assert report["missing"][0] == {"source": "amdsmi", "reason": "why", "fix": "fix"}
    assert report["all_measured"] is False
    assert gpu.closed


def test_inventory_all_measured(two_socket_powercap, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nvml, "discover", lambda: ([], []))
    monkeypatch.setattr(amd, "discover", lambda: ([], []))
    monkeypatch.setenv(rapl.POWERCAP_ROOT_ENV, str(two_socket_powercap.root))
    assert inventory()["all_measured"] is True
