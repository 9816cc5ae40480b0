"""AMD GPUs through a fake amdsmi: counter maths, visible devices, errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest

from genwatt.meter.meter import Meter
from genwatt.meter.result import Method, Provenance
from genwatt.meter.sources import amd


class AmdSmiException(Exception):  # noqa: N818 - amdsmi's own name
    """amdsmi's base exception."""


class AmdSmiLibraryException(AmdSmiException):
    def __init__(self, err_code: int) -> None:
        super().__init__(f"Error code: {err_code} | AMDSMI_STATUS_NOT_SUPPORTED")
        self.err_code = err_code


@dataclass
class AmdGpu:
    market_name: str = "AMD Instinct MI300X"
    accumulator: int = 0  # counts
    resolution_uj: float = 15.259  # microjoules per count
    failing: bool = False


@dataclass
class FakeAmdSmi:
    gpus: list[AmdGpu]
    init_error: Exception | None = None
    # amdsmi before 6.3 names the accumulator "power" instead of "energy_accumulator".
    accumulator_key: str = "energy_accumulator"
    calls: list[str] = field(default_factory=list)

    def module(self) -> ModuleType:
        fake = ModuleType("amdsmi")
        fake.AmdSmiException = AmdSmiException
        fake.AmdSmiLibraryException = AmdSmiLibraryException
        fake.amdsmi_init = self.amdsmi_init
        fake.amdsmi_shut_down = lambda: self.calls.append("shut_down")
        fake.amdsmi_get_processor_handles = lambda: list(self.gpus)
        fake.amdsmi_get_gpu_asic_info = lambda handle: {"market_name": handle.market_name}
        fake.amdsmi_get_energy_count = self.amdsmi_get_energy_count
        return fake

    def amdsmi_init(self, flag: int = 2) -> None:
        if self.init_error is not None:
            raise self.init_error

    def amdsmi_get_energy_count(self, processor_handle: AmdGpu) -> dict[str, Any]:
        if processor_handle.failing:
            raise AmdSmiLibraryException(2)
        return {
            self.accumulator_key: processor_handle.accumulator,
            "counter_resolution": processor_handle.resolution_uj,
            "timestamp": 1_700_000_000_000,
        }


def discover(fake: FakeAmdSmi, monkeypatch: pytest.MonkeyPatch, visible: str | None = None):
    if visible is None:
        monkeypatch.delenv("HIP_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("HIP_VISIBLE_DEVICES", visible)
    return amd.discover(amdsmi=fake.module())


@pytest.mark.parametrize("key", ["energy_accumulator", "power"])
def test_counts_times_resolution_in_joules(monkeypatch, key: str) -> None:
    fake = FakeAmdSmi([AmdGpu(accumulator=1_000), AmdGpu("AMD Instinct MI250X", 0, 1.0)])
    fake.accumulator_key = key
    sources, missing = discover(fake, monkeypatch)
    assert missing == []
    (source,) = sources
    assert [d.name for d in source.domains] == ["gpu:0", "gpu:1"]
    domain = source.domains[0]
    assert (domain.source, domain.method, domain.provenance) == (
        "amdsmi",
        Method.COUNTER,
        Provenance.MEASURED,
    )
    assert domain.device == "AMD Instinct MI300X"
    assert domain.resolution_s == amd.AMDSMI_RESOLUTION_S
    assert source.read_j() == {"gpu:0": 0.0, "gpu:1": 0.0}
    fake.gpus[0].accumulator += 2_000_000  # 2e6 counts x 15.259 uJ = 30.518 J
    fake.gpus[1].accumulator += 5
    reading = source.read_j()
    assert reading["gpu:0"] == pytest.approx(30.518, rel=1e-12)
    assert reading["gpu:1"] == pytest.approx(5e-6, rel=1e-12)


def test_a_window_and_an_error_mid_window(monkeypatch) -> None:
    fake = FakeAmdSmi([AmdGpu(), AmdGpu()])
    (source,), _ = discover(fake, monkeypatch)
    meter = Meter([source], synchronize=False)
    meter.begin("w")
    fake.gpus[0].accumulator += 100_000
    fake.gpus[1].failing = True
    result = meter.end("w")
    assert result.energy_j == {"gpu:0": pytest.approx(1.5259, rel=1e-12)}
    assert result.errors["gpu:1"].startswith("amdsmi failed: Error code: 2")


def test_a_counter_reset_is_an_error_not_a_figure(monkeypatch) -> None:
    fake = FakeAmdSmi([AmdGpu(accumulator=10_000_000), AmdGpu()])
    (source,), _ = discover(fake, monkeypatch)
    meter = Meter([source], synchronize=False, sample_period_s=60)
    meter.begin("w")
    fake.gpus[0].accumulator = 1_000  # reset: the accumulator started over
    source.poll()
    fake.gpus[0].accumulator = 20_000_000  # back above where the window started
    fake.gpus[1].accumulator += 1_000
    result = meter.end("w")
    assert "gpu:0" not in result.energy_j
    assert "counter stepped back from 152.59 J to 0.015259 J" in result.errors["gpu:0"]
    assert "a reset (this counter does not wrap)" in result.errors["gpu:0"]
    assert result.energy_j == {"gpu:1": pytest.approx(0.015259, rel=1e-9)}


def test_hip_visible_devices_by_index(monkeypatch) -> None:
    fake = FakeAmdSmi([AmdGpu("first"), AmdGpu("second"), AmdGpu("third")])
    (source,), _ = discover(fake, monkeypatch, "2,0")
    assert [(d.name, d.device) for d in source.domains] == [("gpu:0", "third"), ("gpu:1", "first")]


def test_a_gpu_without_a_counter_is_missing(monkeypatch) -> None:
    fake = FakeAmdSmi([AmdGpu(failing=True), AmdGpu("good")])
    (source,), missing = discover(fake, monkeypatch)
    assert [(d.name, d.device) for d in source.domains] == [("gpu:1", "good")]
    assert missing[0].reason.startswith("GPU 0: no energy counter: Error code: 2")


def test_no_gpu(monkeypatch) -> None:
    sources, missing = discover(FakeAmdSmi([]), monkeypatch)
    assert sources == []
    assert [m.reason for m in missing] == ["amdsmi reports no AMD GPU"]


def test_init_failure(monkeypatch) -> None:
    fake = FakeAmdSmi([AmdGpu()], init_error=AmdSmiLibraryException(8))
    sources, missing = discover(fake, monkeypatch)
    assert sources == []
    assert missing[0].reason.startswith("amdsmi could not start: Error code: 8")


def test_not_installed(monkeypatch) -> None:
    def no_amdsmi() -> ModuleType:
        raise ImportError("No module named 'amdsmi'")

    monkeypatch.setattr(amd, "_import_amdsmi", no_amdsmi)
    sources, missing = amd.discover()
    assert sources == []
    assert missing[0].reason == "amdsmi is not installed (only needed for AMD GPUs)"
    assert missing[0].fix


def test_close_shuts_amdsmi_down(monkeypatch) -> None:
    fake = FakeAmdSmi([AmdGpu()])
    (source,), _ = discover(fake, monkeypatch)
    source.close()
    assert fake.calls == ["shut_down"]
