"""NVML through a fake pynvml: counter, sampling, errors, visible devices, MIG, init.

Every function the source calls is ``create_autospec``'d from the real pynvml (so a
call with the wrong arguments fails), backed by a small simulated set of GPUs; the
exception tree and error codes are pynvml's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from unittest import mock

import pynvml
import pytest

from genwatt.meter.meter import Meter
from genwatt.meter.result import Method, Provenance
from genwatt.meter.sources import nvml as nvml_source

UUID_A = "GPU-aaaaaaaa-1111-2222-3333-444444444444"
UUID_B = "GPU-bbbbbbbb-5555-6666-7777-888888888888"
MIG_B = "MIG-cccccccc-9999-0000-1111-222222222222"


def nvml_error(code: int) -> pynvml.NVMLError:
    return pynvml.NVMLError(code)  # pynvml picks the subclass (NVMLError_NotSupported...)


@dataclass
class Gpu:
    name: str
    uuid: str
    energy_mj: int | None = 0  # None: no energy counter (pre-Volta)
    power_mw: int | None = 100_000  # None: no power reading either
    mig_mode: int = 0
    mig_uuids: tuple[str, ...] = ()
    lost: bool = False  # every query fails with GPU_IS_LOST


@dataclass
class MigHandle:
    parent: Gpu


PYNVML_FUNCTIONS = {  # the pynvml function -> the FakeNvml method behind it
    "nvmlInit": "init",
    "nvmlShutdown": "shutdown",
    "nvmlDeviceGetCount": "device_count",
    "nvmlDeviceGetHandleByIndex": "handle_by_index",
    "nvmlDeviceGetHandleByUUID": "handle_by_uuid",
    "nvmlDeviceGetDeviceHandleFromMigDeviceHandle": "parent_of_mig",
    "nvmlDeviceGetMigMode": "mig_mode",
    "nvmlDeviceGetName": "gpu_name",
    "nvmlDeviceGetUUID": "gpu_uuid",
    "nvmlDeviceGetTotalEnergyConsumption": "total_energy_mj",
    "nvmlDeviceGetPowerUsage": "power_mw",
}


@dataclass
class FakeNvml:
    """Simulated GPUs behind the pynvml functions genwatt uses."""

    gpus: list[Gpu]
    init_error: int | None = None
    calls: list[str] = field(default_factory=list)

    def _gpu(self, handle: Gpu) -> Gpu:
        if handle.lost:
            raise nvml_error(pynvml.NVML_ERROR_GPU_IS_LOST)
        return handle

    def init(self) -> None:
        if self.init_error is not None:
            raise nvml_error(self.init_error)

    def shutdown(self) -> None:
        self.calls.append("shutdown")

    def device_count(self) -> int:
        return len(self.gpus)

    def handle_by_index(self, index: int) -> Gpu:
        if not 0 <= index < len(self.gpus):
            raise nvml_error(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return self.gpus[index]

    def handle_by_uuid(self, uuid: str) -> Gpu | MigHandle:
        for gpu in self.gpus:
            if gpu.uuid == uuid:
                return gpu
            if uuid in gpu.mig_uuids:
                return MigHandle(gpu)
        raise nvml_error(pynvml.NVML_ERROR_NOT_FOUND)

    def parent_of_mig(self, mig: MigHandle) -> Gpu:
        return mig.parent

    def mig_mode(self, device: Gpu) -> list[int]:
        return [self._gpu(device).mig_mode, device.mig_mode]

    def gpu_name(self, handle: Gpu) -> str:
        return self._gpu(handle).name

    def gpu_uuid(self, handle: Gpu) -> str:
        return self._gpu(handle).uuid

    def total_energy_mj(self, handle: Gpu) -> int:
        gpu = self._gpu(handle)
        if gpu.energy_mj is None:
            raise nvml_error(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return gpu.energy_mj

    def power_mw(self, handle: Gpu) -> int:
        gpu = self._gpu(handle)
        if gpu.power_mw is None:
            raise nvml_error(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return gpu.power_mw

    def module(self) -> ModuleType:
        """A pynvml look-alike: autospecced functions, the real errors and codes."""
        fake = ModuleType("pynvml")
        for name in dir(pynvml):
            value = getattr(pynvml, name)
            if name.startswith("NVML_") and isinstance(value, int):
                setattr(fake, name, value)
        fake.NVMLError = pynvml.NVMLError
        for name, method in PYNVML_FUNCTIONS.items():
            spec = mock.create_autospec(getattr(pynvml, name), side_effect=getattr(self, method))
            setattr(fake, name, spec)
        return fake


@pytest.fixture
def clock(fake_clock, monkeypatch: pytest.MonkeyPatch):
    """One hand-moved clock for the sampling path's timestamps and the meter's."""
    monkeypatch.setattr(nvml_source, "time", fake_clock)
    return fake_clock


@pytest.fixture
def two_gpus() -> FakeNvml:
    return FakeNvml(
        [Gpu("NVIDIA H100", UUID_A, energy_mj=1_000_000), Gpu("NVIDIA H100", UUID_B, 5_000)]
    )


def discover(fake: FakeNvml, monkeypatch: pytest.MonkeyPatch, visible: str | None):
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    return nvml_source.discover(nvml=fake.module())


def only_source(fake: FakeNvml, monkeypatch: pytest.MonkeyPatch, visible: str | None = None):
    sources, missing = discover(fake, monkeypatch, visible)
    assert missing == []
    (source,) = sources
    return source


# ----------------------------------------------------------------- energy counter


def test_energy_counter_millijoules_to_joules(two_gpus, monkeypatch) -> None:
    source = only_source(two_gpus, monkeypatch)
    assert [d.name for d in source.domains] == ["gpu:0", "gpu:1"]
    gpu0 = source.domains[0]
    assert gpu0.method is Method.COUNTER and gpu0.provenance is Provenance.MEASURED
    assert gpu0.source == "nvml"
    assert gpu0.device == f"NVIDIA H100 ({UUID_A})"
    assert gpu0.resolution_s == nvml_source.NVML_COUNTER_RESOLUTION_S
    assert gpu0.flags == ()
    assert source.read_j() == {"gpu:0": 0.0, "gpu:1": 0.0}  # relative to the source's start
    two_gpus.gpus[0].energy_mj += 12_345
    two_gpus.gpus[1].energy_mj += 1
    assert source.read_j() == {"gpu:0": 12.345, "gpu:1": 0.001}


def test_a_window_on_the_energy_counter(two_gpus, monkeypatch, clock) -> None:
    source = only_source(two_gpus, monkeypatch)
    meter = Meter([source], synchronize=False)
    with meter.window("denoise") as w:
        clock.now += 2.0
        two_gpus.gpus[0].energy_mj += 700_500  # 350.25 W for 2 s
    assert w.result is not None
    assert w.result.energy_j == {"gpu:0": 700.5, "gpu:1": 0.0}
    assert w.result.provenance == {"gpu:0": Provenance.MEASURED, "gpu:1": Provenance.MEASURED}
    assert w.result.flags == {}


def test_counter_resolution_can_be_overridden(two_gpus, monkeypatch) -> None:
    monkeypatch.setenv("GENWATT_NVML_RESOLUTION_S", "0.025")
    source = only_source(two_gpus, monkeypatch)
    assert source.domains[0].resolution_s == 0.025


def test_error_in_the_middle_of_a_window(two_gpus, monkeypatch, clock) -> None:
    source = only_source(two_gpus, monkeypatch)
    meter = Meter([source], synchronize=False)
    meter.begin("w")
    clock.now += 1.0
    two_gpus.gpus[0].energy_mj += 250_000
    two_gpus.gpus[1].lost = True  # the end reading fails
    result = meter.end("w")
    assert result.energy_j == {"gpu:0": 250.0}
    assert "gpu:1" not in result.provenance
    assert result.errors["gpu:1"] == f"NVML failed on NVIDIA H100 ({UUID_B}): GPU is lost"
    assert not result.complete


def test_short_window_counter_not_advanced_is_estimated_from_power(
    two_gpus, monkeypatch, clock
) -> None:
    source = only_source(two_gpus, monkeypatch)
    two_gpus.gpus[0].power_mw = 312_500
    meter = Meter([source], synchronize=False)
    with meter.window("tiny") as w:
        clock.now += 0.004
        two_gpus.gpus[1].energy_mj += 3  # gpu:1's counter did move
    result = w.result
    assert result is not None
    assert result.energy_j["gpu:0"] == pytest.approx(1.25, rel=1e-9)  # 312.5 W x 4 ms
    assert result.provenance["gpu:0"] is Provenance.ESTIMATED
    assert any("counter did not advance" in f for f in result.flags["gpu:0"])
    assert result.energy_j["gpu:1"] == 0.003
    assert result.provenance["gpu:1"] is Provenance.MEASURED
    assert any("shorter than the counter's update period" in f for f in result.flags["gpu:1"])


def test_a_counter_reset_mid_window_is_an_error_not_a_figure(two_gpus, monkeypatch, clock) -> None:
    """A GPU reset sets the counter back; it never wraps, so any backward step is one."""
    source = only_source(two_gpus, monkeypatch)
    meter = Meter([source], synchronize=False, sample_period_s=60)
    with meter.window("w") as w:
        clock.now += 0.5
        two_gpus.gpus[0].energy_mj = 200_000  # was 1,000,000: reset during the window
        source.poll()  # the sampler sees it ...
        clock.now += 10.0
        two_gpus.gpus[0].energy_mj = 1_500_000  # ... before the counter climbs back past
        two_gpus.gpus[1].energy_mj += 1_000
    assert w.result is not None
    assert w.result.energy_j == {"gpu:1": 1.0}
    assert w.result.errors["gpu:0"] == (
        f"NVIDIA H100 ({UUID_A}): counter stepped back from 1000 J to 200 J in 500 ms: a "
        "reset (this counter does not wrap); energy for this window unknown"
    )
    with meter.window("later") as later:  # windows after the reset are measured again
        clock.now += 1.0
        two_gpus.gpus[0].energy_mj += 300_000
    assert later.result is not None and later.result.energy_j["gpu:0"] == 300.0


def test_an_impossible_jump_of_the_counter_is_an_error(two_gpus, monkeypatch, clock) -> None:
    source = only_source(two_gpus, monkeypatch)
    meter = Meter([source], synchronize=False)
    with meter.window("w") as w:
        clock.now += 1.0
        two_gpus.gpus[0].energy_mj += 2**40  # a garbage read: 1.1 GJ in a second
    assert w.result is not None
    assert "gpu:0" not in w.result.energy_j
    assert "not a physical reading" in w.result.errors["gpu:0"]


# ---------------------------------------------------------------------- sampling


def test_sampling_path_when_the_counter_is_not_supported(monkeypatch, clock) -> None:
    fake = FakeNvml([Gpu("Tesla P100", UUID_A, energy_mj=None, power_mw=100_000)])
    clock.now = 10.0
    source = only_source(fake, monkeypatch)
    (domain,) = source.domains
    assert domain.method is Method.SAMPLING and domain.provenance is Provenance.MEASURED
    assert domain.resolution_s == nvml_source.NVML_SAMPLING_RESOLUTION_S
    clock.now, fake.gpus[0].power_mw = 11.0, 200_000
    source.poll()  # trapezoid 10 s -> 11 s: (100 + 200) / 2 x 1 = 150 J
    clock.now, fake.gpus[0].power_mw = 13.0, 300_000
    assert source.read_j() == {"gpu:0": 650.0}  # + (200 + 300) / 2 x 2 = 500 J


def test_a_window_on_the_sampling_path(monkeypatch, clock) -> None:
    fake = FakeNvml([Gpu("Tesla P100", UUID_A, energy_mj=None, power_mw=50_000)])
    source = only_source(fake, monkeypatch)
    meter = Meter([source], synchronize=False)
    clock.now, fake.gpus[0].power_mw = 1.0, 80_000  # before the window: not counted
    meter.begin("w")
    clock.now, fake.gpus[0].power_mw = 3.0, 120_000
    source.poll()
    clock.now, fake.gpus[0].power_mw = 4.5, 60_000
    result = meter.end("w")
    assert result.energy_j == {"gpu:0": pytest.approx(200.0 + 135.0, rel=1e-12)}
    assert result.method == {"gpu:0": Method.SAMPLING}
    assert result.provenance == {"gpu:0": Provenance.MEASURED}


def test_sampling_error_mid_window_is_an_error(monkeypatch, clock) -> None:
    fake = FakeNvml([Gpu("Tesla P100", UUID_A, energy_mj=None)])
    source = only_source(fake, monkeypatch)
    meter = Meter([source], synchronize=False)
    meter.begin("w")
    clock.now += 2.0
    fake.gpus[0].lost = True
    source.poll()  # swallowed here, reported against the window below
    result = meter.end("w")
    assert result.energy_j == {}
    assert "GPU is lost" in result.errors["gpu:0"]


def test_an_impossible_power_reading_is_an_error_not_integrated(monkeypatch, clock) -> None:
    """NVML can return 0xFFFFFFFF mW (4.3 MW) for a failed power read."""
    fake = FakeNvml([Gpu("Tesla P100", UUID_A, energy_mj=None, power_mw=100_000)])
    source = only_source(fake, monkeypatch)
    meter = Meter([source], synchronize=False, sample_period_s=60)
    with meter.window("w") as w:
        clock.now, fake.gpus[0].power_mw = clock.now + 1.0, 0xFFFFFFFF
        source.poll()
        clock.now, fake.gpus[0].power_mw = clock.now + 1.0, 100_000
    assert w.result is not None
    assert w.result.energy_j == {}
    assert "power reading of 4.29497e+06 W is outside 0 to 4000 W" in w.result.errors["gpu:0"]
    with meter.window("after") as after:  # the next window is measured again
        clock.now += 2.0
    assert after.result is not None
    assert after.result.energy_j == {"gpu:0": pytest.approx(200.0, rel=1e-12)}
    fake.gpus[0].power_mw = 0xFFFFFFFF
    assert source.power_w() == {}  # nor used for a short window's estimate


def test_neither_counter_nor_power(monkeypatch) -> None:
    fake = FakeNvml([Gpu("Mystery", UUID_A, energy_mj=None, power_mw=None)])
    sources, missing = discover(fake, monkeypatch, None)
    assert sources == []
    assert [m.reason for m in missing] == [
        "Mystery offers neither an energy counter nor power readings"
    ]
    assert fake.calls == ["shutdown"]


def test_power_w_and_close(two_gpus, monkeypatch) -> None:
    source = only_source(two_gpus, monkeypatch)
    two_gpus.gpus[1].power_mw = 275_250
    two_gpus.gpus[0].lost = True
    assert source.power_w() == {"gpu:1": 275.25}
    source.close()
    assert two_gpus.calls == ["shutdown"]


# ----------------------------------------------------------- CUDA_VISIBLE_DEVICES


def test_all_gpus_when_unset(two_gpus, monkeypatch) -> None:
    source = only_source(two_gpus, monkeypatch, None)
    assert [d.device.split("(")[1][:-1] for d in source.domains] == [UUID_A, UUID_B]


def test_visible_by_index_renumbers_as_cuda_does(two_gpus, monkeypatch) -> None:
    source = only_source(two_gpus, monkeypatch, "1")
    (domain,) = source.domains
    assert domain.name == "gpu:0"  # what torch calls cuda:0
    assert UUID_B in domain.device
    two_gpus.gpus[1].energy_mj += 2_000
    assert source.read_j() == {"gpu:0": 2.0}


def test_visible_by_uuid_prefix(two_gpus, monkeypatch) -> None:
    source = only_source(two_gpus, monkeypatch, "GPU-bbbb,GPU-aaaaaaaa-1111")
    assert [d.name for d in source.domains] == ["gpu:0", "gpu:1"]
    assert UUID_B in source.domains[0].device and UUID_A in source.domains[1].device


def test_visible_mig_instance_reads_its_parent_and_is_flagged_shared(monkeypatch) -> None:
    fake = FakeNvml(
        [
            Gpu("NVIDIA A100", UUID_A, energy_mj=0),
            Gpu("NVIDIA A100", UUID_B, energy_mj=40_000, mig_mode=1, mig_uuids=(MIG_B,)),
        ]
    )
    source = only_source(fake, monkeypatch, MIG_B)
    (domain,) = source.domains
    assert domain.name == "gpu:0"
    assert UUID_B in domain.device  # the physical GPU behind the slice
    assert domain.flags == (nvml_source.MIG_FLAG,)
    fake.gpus[1].energy_mj += 1_500
    assert source.read_j() == {"gpu:0": 1.5}
    meter = Meter([source], synchronize=False, sample_period_s=10)
    with meter.window("w") as w:
        fake.gpus[1].energy_mj += 500
    assert w.result is not None
    assert nvml_source.MIG_FLAG in w.result.flags["gpu:0"]


def test_whole_gpu_with_mig_enabled_is_flagged(monkeypatch) -> None:
    fake = FakeNvml([Gpu("NVIDIA A100", UUID_A, mig_mode=1, mig_uuids=(MIG_B,))])
    source = only_source(fake, monkeypatch, "0")
    assert source.domains[0].flags == (nvml_source.MIG_FLAG,)


def test_empty_visible_devices_hides_every_gpu(two_gpus, monkeypatch) -> None:
    sources, missing = discover(two_gpus, monkeypatch, "")
    assert sources == []
    assert [m.reason for m in missing] == ["CUDA_VISIBLE_DEVICES='' hides every GPU from CUDA"]
    assert two_gpus.calls == ["shutdown"]


@pytest.mark.parametrize(
    ("visible", "uuids"),
    [
        ("1,foo,0", [UUID_B]),  # parsing stops at the first invalid entry
        ("0,7,1", [UUID_A]),  # ... and at an index that does not exist
        ("-1,0", []),
        ("GPU-ffff,0", []),  # ... and at a UUID that matches no GPU
        ("1, 0", [UUID_B, UUID_A]),
    ],
)
def test_an_invalid_entry_stops_parsing(two_gpus, monkeypatch, visible, uuids) -> None:
    sources, _missing = discover(two_gpus, monkeypatch, visible)
    domains = sources[0].domains if sources else []
    assert [d.name for d in domains] == [f"gpu:{i}" for i in range(len(uuids))]
    assert [d.device.split("(")[1][:-1] for d in domains] == uuids


def test_an_unknown_uuid_is_reported(two_gpus, monkeypatch) -> None:
    sources, missing = discover(two_gpus, monkeypatch, "0,GPU-ffff,1")
    assert [d.name for d in sources[0].domains] == ["gpu:0"]
    assert [m.reason for m in missing] == [
        "CUDA_VISIBLE_DEVICES entry 'GPU-ffff' matches no GPU: CUDA hides it and every "
        "entry after it"
    ]


def test_different_models_without_pci_bus_order_are_flagged(monkeypatch) -> None:
    fake = FakeNvml([Gpu("NVIDIA H100", UUID_A), Gpu("NVIDIA L4", UUID_B)])
    source = only_source(fake, monkeypatch)
    assert all("CUDA_DEVICE_ORDER=PCI_BUS_ID" in d.flags[0] for d in source.domains)
    monkeypatch.setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    assert only_source(fake, monkeypatch).domains[0].flags == ()


def test_no_gpu_at_all(monkeypatch) -> None:
    sources, missing = discover(FakeNvml([]), monkeypatch, None)
    assert sources == []
    assert [m.reason for m in missing] == ["NVML reports no GPU on this machine"]


# ------------------------------------------------------------------ init failures


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "no NVML library (libnvidia-ml.so)"),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "the NVIDIA driver is not loaded"),
        (pynvml.NVML_ERROR_NO_PERMISSION, "no permission to open the NVIDIA device files"),
        (pynvml.NVML_ERROR_UNKNOWN, "NVML could not start: Unknown Error"),
    ],
)
def test_init_failures_have_clear_reasons(monkeypatch, code: int, reason: str) -> None:
    sources, missing = discover(FakeNvml([], init_error=code), monkeypatch, None)
    assert sources == []
    (why,) = missing
    assert why.source == "nvml"
    assert why.reason.startswith(reason)


def test_pynvml_not_installed(monkeypatch) -> None:
    def no_pynvml() -> ModuleType:
        raise ImportError("No module named 'pynvml'")

    monkeypatch.setattr(nvml_source, "_import_pynvml", no_pynvml)
    sources, missing = nvml_source.discover()
    assert sources == []
    assert missing[0].reason == "nvidia-ml-py is not installed"
    assert missing[0].fix == "pip install nvidia-ml-py"
