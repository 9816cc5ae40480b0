"""NVIDIA GPU energy through NVML (the ``pynvml`` module of nvidia-ml-py).

Volta and newer expose a total-energy counter in millijoules: that is read directly.
Older GPUs only report instantaneous power (milliwatts); their energy is integrated
with the trapezoid rule from samples taken on the meter's sampling thread and at each
window boundary. A MIG instance has no counter of its own: the parent GPU's counter is
read and every figure is flagged as shared.

The energy counter is 64-bit millijoules and never wraps in practice: any backward
step is a reset (driver reload, GPU reset), and a forward step or a power reading above
what any GPU can draw is a fault. Each is a break for the windows spanning it
(``counter.py``), never a figure.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

from genwatt.errors import SourceReadError
from genwatt.meter.result import Method, Provenance
from genwatt.meter.sources.base import (
    CounterBreak,
    Domain,
    EnergySource,
    MissingCounter,
    Reading,
    Snapshot,
)
from genwatt.meter.sources.counter import POWER_CEILING_W, CounterTrack
from genwatt.meter.sources.visible_devices import parse_visible_devices, visible_devices_env

# The energy counter advances in steps; windows shorter than this are flagged as not
# resolvable. Conservative default; override with GENWATT_NVML_RESOLUTION_S.
NVML_COUNTER_RESOLUTION_S = 0.1
# Power readings on pre-Volta boards are averages over about one second.
NVML_SAMPLING_RESOLUTION_S = 1.0
MIG_FLAG = (
    "MIG instance: NVML has no per-instance energy counter; this is the whole physical "
    "GPU's energy, shared with every other instance on it"
)


def _import_pynvml() -> ModuleType:
    import pynvml

    return pynvml


def _counter_resolution_s() -> float:
    return float(os.environ.get("GENWATT_NVML_RESOLUTION_S", NVML_COUNTER_RESOLUTION_S))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class _Gpu:
    domain: Domain
    handle: Any
    uses_counter: bool
    counter: CounterTrack | None = None  # millijoules since the source was created
    # trapezoid state for the sampling path; None: the last power reading was invalid
    last_t: float = 0.0
    last_power_w: float | None = 0.0
    integrated_j: float = 0.0
    sampling_breaks: int = 0
    last_sampling_break: str = ""

    def break_record(self) -> CounterBreak | None:
        if self.counter is not None:
            return self.counter.break_record()
        if self.sampling_breaks:
            return CounterBreak(self.sampling_breaks, self.last_sampling_break)
        return None


class NvmlSource(EnergySource):
    name = "nvml"

    def __init__(self, nvml: ModuleType, gpus: list[_Gpu]) -> None:
        self._nvml = nvml
        self._gpus = gpus
        self._lock = threading.Lock()
        now = time.perf_counter()
        for gpu in gpus:
            if gpu.uses_counter:
                gpu.counter = CounterTrack(
                    description=gpu.domain.device,
                    ceiling_w=POWER_CEILING_W["gpu"],
                    units_per_j=1000.0,
                    wrap_at=None,
                    last_raw=nvml.nvmlDeviceGetTotalEnergyConsumption(gpu.handle),
                    last_t=now,
                )
            else:
                gpu.last_t = now
                gpu.last_power_w = self._valid_power_w(
                    gpu, nvml.nvmlDeviceGetPowerUsage(gpu.handle)
                )

    @property
    def domains(self) -> list[Domain]:
        return [g.domain for g in self._gpus]

    def poll(self) -> None:
        """Sample power on the sampling path, and read every counter so that a reset is
        caught between window boundaries rather than hidden by later progress."""
        with self._lock:
            for gpu in self._gpus:
                # A failure here resurfaces in the next read_j, against its window.
                with contextlib.suppress(self._nvml.NVMLError):
                    self._advance(gpu)

    def _advance(self, gpu: _Gpu) -> None:
        if gpu.counter is not None:
            t_before = time.perf_counter()
            now_mj = self._nvml.nvmlDeviceGetTotalEnergyConsumption(gpu.handle)
            gpu.counter.advance(now_mj, t_before, time.perf_counter())
        else:
            self._sample(gpu)

    def _sample(self, gpu: _Gpu) -> None:
        """One trapezoid from the previous power reading to this one. After an invalid
        reading the interval uses this reading alone (a rectangle)."""
        power_w = self._valid_power_w(gpu, self._nvml.nvmlDeviceGetPowerUsage(gpu.handle))
        now = time.perf_counter()
        if power_w is not None:
            before_w = power_w if gpu.last_power_w is None else gpu.last_power_w
            gpu.integrated_j += 0.5 * (before_w + power_w) * (now - gpu.last_t)
        gpu.last_t, gpu.last_power_w = now, power_w

    def _valid_power_w(self, gpu: _Gpu, power_mw: float) -> float | None:
        """Watts, or None (and a break) for a reading no GPU can produce: NVML has been
        seen returning 0xFFFFFFFF mW for a failed read."""
        power_w = power_mw / 1000.0
        ceiling_w = POWER_CEILING_W["gpu"]
        if 0.0 <= power_w <= ceiling_w:
            return power_w
        gpu.sampling_breaks += 1
        gpu.last_sampling_break = (
            f"{gpu.domain.device}: power reading of {power_w:.6g} W is outside 0 to "
            f"{ceiling_w:.4g} W: not a physical reading; energy for this window unknown"
        )
        return None

    def read_j(self) -> Reading:
        return self.snapshot().energy_j

    def snapshot(self) -> Snapshot:
        reading: Reading = {}
        with self._lock:
            for gpu in self._gpus:
                try:
                    self._advance(gpu)
                    total = gpu.counter.total_j if gpu.counter is not None else gpu.integrated_j
                    reading[gpu.domain.name] = total
                except self._nvml.NVMLError as exc:
                    reading[gpu.domain.name] = SourceReadError(
                        f"NVML failed on {gpu.domain.device}: {exc}"
                    )
            breaks = {g.domain.name: b for g in self._gpus if (b := g.break_record())}
        return Snapshot(reading, breaks)

    def power_w(self) -> dict[str, float]:
        """Instantaneous power of every GPU that gives a physically possible reading."""
        powers: dict[str, float] = {}
        for gpu in self._gpus:
            try:
                power_w = self._nvml.nvmlDeviceGetPowerUsage(gpu.handle) / 1000.0
            except self._nvml.NVMLError:
                continue
            if 0.0 <= power_w <= POWER_CEILING_W["gpu"]:
                powers[gpu.domain.name] = power_w
        return powers

    def close(self) -> None:
        with contextlib.suppress(self._nvml.NVMLError):
            self._nvml.nvmlShutdown()


def discover(nvml: ModuleType | None = None) -> tuple[list[EnergySource], list[MissingCounter]]:
    """Open every GPU CUDA would show this process, with the best method each offers."""
    try:
        nvml = nvml or _import_pynvml()
    except ImportError:
        return [], [
            MissingCounter("nvml", "nvidia-ml-py is not installed", "pip install nvidia-ml-py")
        ]
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        return [], [MissingCounter("nvml", _init_failure(nvml, exc))]
    try:
        gpus, missing = _open_visible_gpus(nvml)
    except nvml.NVMLError as exc:
        nvml.nvmlShutdown()
        return [], [MissingCounter("nvml", f"NVML failed while listing GPUs: {exc}")]
    if not gpus:
        nvml.nvmlShutdown()
        return [], missing
    return [NvmlSource(nvml, gpus)], missing


def _init_failure(nvml: ModuleType, exc: Exception) -> str:
    code = getattr(exc, "value", None)
    if code == getattr(nvml, "NVML_ERROR_LIBRARY_NOT_FOUND", object()):
        return "no NVML library (libnvidia-ml.so): no NVIDIA driver on this machine"
    if code == getattr(nvml, "NVML_ERROR_DRIVER_NOT_LOADED", object()):
        return "the NVIDIA driver is not loaded (no NVIDIA GPU, or the kernel module failed)"
    if code == getattr(nvml, "NVML_ERROR_NO_PERMISSION", object()):
        return "no permission to open the NVIDIA device files (/dev/nvidia*)"
    return f"NVML could not start: {exc}"


def _open_visible_gpus(nvml: ModuleType) -> tuple[list[_Gpu], list[MissingCounter]]:
    count = nvml.nvmlDeviceGetCount()
    if count == 0:
        return [], [MissingCounter("nvml", "NVML reports no GPU on this machine")]
    env = visible_devices_env()
    visible = parse_visible_devices(env, count)
    if not visible:
        return [], [
            MissingCounter("nvml", f"CUDA_VISIBLE_DEVICES={env!r} hides every GPU from CUDA")
        ]
    gpus: list[_Gpu] = []
    missing: list[MissingCounter] = []
    names: set[str] = set()
    for device in visible:
        selector = device.selector
        if selector.startswith("GPU-"):
            uuid = _resolve_uuid(nvml, selector)
            if uuid is None:  # CUDA stops at an entry it cannot resolve
                missing.append(
                    MissingCounter(
                        "nvml",
                        f"CUDA_VISIBLE_DEVICES entry {selector!r} matches no GPU: CUDA "
                        "hides it and every entry after it",
                    )
                )
                break
            selector = uuid
        gpu = _open_gpu(nvml, device.logical_index, selector, missing)
        if gpu is not None:
            gpus.append(gpu)
            names.add(gpu.domain.device.split(" (")[0])
    if len(names) > 1 and os.environ.get("CUDA_DEVICE_ORDER") != "PCI_BUS_ID":
        order_flag = (
            "GPUs of different models and CUDA_DEVICE_ORDER is not PCI_BUS_ID: CUDA may "
            "number them differently from NVML; set CUDA_DEVICE_ORDER=PCI_BUS_ID"
        )
        for gpu in gpus:
            gpu.domain = _with_flag(gpu.domain, order_flag)
    return gpus, missing


def _with_flag(domain: Domain, flag: str) -> Domain:
    return replace(domain, flags=(*domain.flags, flag))


def _open_gpu(
    nvml: ModuleType, logical_index: int, selector: str, missing: list[MissingCounter]
) -> _Gpu | None:
    flags: list[str] = []
    try:
        if selector.isdigit():
            handle = nvml.nvmlDeviceGetHandleByIndex(int(selector))
        else:
            handle = nvml.nvmlDeviceGetHandleByUUID(selector)
        if selector.startswith("MIG-"):
            handle = nvml.nvmlDeviceGetDeviceHandleFromMigDeviceHandle(handle)
            flags.append(MIG_FLAG)
        elif _mig_enabled(nvml, handle):
            flags.append(MIG_FLAG)
        name = _text(nvml.nvmlDeviceGetName(handle))
        uuid = _text(nvml.nvmlDeviceGetUUID(handle))
    except nvml.NVMLError as exc:
        missing.append(MissingCounter("nvml", f"cannot open GPU {selector!r}: {exc}"))
        return None
    uses_counter = _has_energy_counter(nvml, handle)
    if uses_counter is None:
        missing.append(
            MissingCounter("nvml", f"{name} offers neither an energy counter nor power readings")
        )
        return None
    domain = Domain(
        name=f"gpu:{logical_index}",
        kind="gpu",
        source="nvml",
        method=Method.COUNTER if uses_counter else Method.SAMPLING,
        provenance=Provenance.MEASURED,
        device=f"{name} ({uuid})",
        resolution_s=_counter_resolution_s() if uses_counter else NVML_SAMPLING_RESOLUTION_S,
        flags=tuple(flags),
    )
    return _Gpu(domain=domain, handle=handle, uses_counter=uses_counter)


def _resolve_uuid(nvml: ModuleType, selector: str) -> str | None:
    """CUDA accepts a unique prefix of a GPU UUID; NVML wants the whole one."""
    for index in range(nvml.nvmlDeviceGetCount()):
        uuid = _text(nvml.nvmlDeviceGetUUID(nvml.nvmlDeviceGetHandleByIndex(index)))
        if uuid.startswith(selector):
            return uuid
    return None


def _mig_enabled(nvml: ModuleType, handle: Any) -> bool:
    try:
        current, _pending = nvml.nvmlDeviceGetMigMode(handle)
    except nvml.NVMLError:
        return False
    return bool(current)


def _has_energy_counter(nvml: ModuleType, handle: Any) -> bool | None:
    """True: energy counter; False: power sampling only; None: neither works."""
    try:
        nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
        return True
    except nvml.NVMLError:
        pass
    try:
        nvml.nvmlDeviceGetPowerUsage(handle)
        return False
    except nvml.NVMLError:
        return None
