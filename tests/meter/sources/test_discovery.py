"""Discovery: counters first, estimates only for domains no counter covers."""

from __future__ import annotations

from pathlib import Path

import pytest

from genwatt.meter.meter import Meter
from genwatt.meter.result import Provenance
from genwatt.meter.sources import amd, nvml, rapl
from genwatt.meter.sources.base import MissingCounter
from genwatt.meter.sources.discovery import discover_sources
from genwatt.meter.sources.estimate import EstimateSource


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nvml, "discover", lambda: ([], [MissingCounter("nvml", "no driver")]))
    monkeypatch.setattr(amd, "discover", lambda: ([], [MissingCounter("amdsmi", "no amdsmi")]))


def names_and_provenance(discovery) -> list[tuple[str, str, Provenance]]:
    return [(d.name, d.source, d.provenance) for d in discovery.domains]


def test_no_counter_at_all_gives_estimates_and_reasons(no_gpu) -> None:
    found = discover_sources()
    assert names_and_provenance(found) == [
        ("cpu:0", "estimate", Provenance.ESTIMATED),
        ("dram:0", "estimate", Provenance.ESTIMATED),
    ]
    assert [m.source for m in found.missing] == ["nvml", "amdsmi", "rapl"]
    assert "no powercap folder" in found.missing[2].reason


def test_rapl_counters_replace_both_estimates(
    no_gpu, two_socket_powercap, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(rapl.POWERCAP_ROOT_ENV, str(two_socket_powercap.root))
    found = discover_sources()
    assert [(d.name, d.source) for d in found.domains] == [
        ("cpu:0", "rapl"),
        ("dram:0", "rapl"),
        ("cpu:1", "rapl"),
        ("dram:1", "rapl"),
    ]
    assert not any(isinstance(s, EstimateSource) for s in found.sources)
    assert [m.source for m in found.missing] == ["nvml", "amdsmi"]


def test_only_the_uncovered_domain_is_estimated(
    no_gpu, powercap, monkeypatch: pytest.MonkeyPatch
) -> None:
    powercap.add("intel-rapl:0", "package-0", 1_000)  # no DRAM zone on this CPU
    monkeypatch.setenv(rapl.POWERCAP_ROOT_ENV, str(powercap.root))
    found = discover_sources()
    assert names_and_provenance(found) == [
        ("cpu:0", "rapl", Provenance.MEASURED),
        ("dram:0", "estimate", Provenance.ESTIMATED),
    ]


def test_unreadable_rapl_falls_back_to_the_estimate_and_says_why(
    no_gpu, powercap, monkeypatch: pytest.MonkeyPatch
) -> None:
    powercap.add("intel-rapl:0", "package-0", 1_000)
    powercap.add("intel-rapl:0:0", "dram", 1_000)
    monkeypatch.setenv(rapl.POWERCAP_ROOT_ENV, str(powercap.root))
    real = Path.read_text

    def read_text(self: Path, *args, **kwargs) -> str:
        if self.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    found = discover_sources()
    assert names_and_provenance(found) == [
        ("cpu:0", "estimate", Provenance.ESTIMATED),
        ("dram:0", "estimate", Provenance.ESTIMATED),
    ]
    rapl_missing = [m for m in found.missing if m.source == "rapl"]
    assert len(rapl_missing) == 2
    assert all("permission denied" in m.reason and "chmod" in (m.fix or "") for m in rapl_missing)


def test_gpus_come_first_and_estimates_can_be_left_out(
    fake_source, monkeypatch: pytest.MonkeyPatch
) -> None:
    gpu = fake_source("gpu:0", name="nvml")
    monkeypatch.setattr(nvml, "discover", lambda: ([gpu], []))
    monkeypatch.setattr(amd, "discover", lambda: ([], []))
    found = discover_sources()
    assert [d.name for d in found.domains] == ["gpu:0", "cpu:0", "dram:0"]
    assert found.sources[0] is gpu
    without = discover_sources(include_estimates=False)
    assert [d.name for d in without.domains] == ["gpu:0"]
    meter = Meter(include_estimates=False)
    assert [d.name for d in meter.domains] == ["gpu:0"]
    assert [m.source for m in meter.missing] == ["rapl"]
