"""AMD GPU energy through amdsmi (ROCm), when the library is installed.

``amdsmi_get_energy_count`` returns an accumulator in counts and the energy per count
(``counter_resolution``, microjoules); their product is the cumulative energy. ROCm
numbers GPUs by HIP_VISIBLE_DEVICES / ROCR_VISIBLE_DEVICES; genwatt honours the
common case of plain indices in HIP_VISIBLE_DEVICES.

The accumulator is 64-bit and never wraps in practice: a backward step is a reset, and
a forward step faster than any GPU can draw is a fault. Each is a break for the windows
spanning it (``counter.py``), never a figure.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
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

# The SMU energy accumulator is refreshed about every millisecond on MI200/MI300; we
# flag windows under 10 ms to stay on the safe side.
AMDSMI_RESOLUTION_S = 0.01


def _import_amdsmi() -> ModuleType:
    import amdsmi

    return amdsmi


def _energy_uj(amdsmi: ModuleType, handle: Any) -> float:
    info = amdsmi.amdsmi_get_energy_count(handle)
    # amdsmi before 6.3 names the accumulator "power"; 6.3 and later "energy_accumulator".
    counts = info["energy_accumulator"] if "energy_accumulator" in info else info["power"]
    return float(counts) * float(info["counter_resolution"])


@dataclass
class _AmdGpu:
    domain: Domain
    handle: Any
    counter: CounterTrack | None = None  # microjoules since the source was created


class AmdSmiSource(EnergySource):
    name = "amdsmi"

    def __init__(self, amdsmi: ModuleType, gpus: list[_AmdGpu]) -> None:
        self._amdsmi = amdsmi
        self._gpus = gpus
        self._lock = threading.Lock()
        for gpu in gpus:
            t_before = time.perf_counter()
            gpu.counter = CounterTrack(
                description=gpu.domain.device,
                ceiling_w=POWER_CEILING_W["gpu"],
                units_per_j=1e6,
                wrap_at=None,
                last_raw=_energy_uj(amdsmi, gpu.handle),
                last_t=t_before,
            )

    @property
    def domains(self) -> list[Domain]:
        return [g.domain for g in self._gpus]

    def poll(self) -> None:
        """Read every counter, so a reset is caught between window boundaries rather
        than hidden by later progress."""
        self.snapshot()

    def read_j(self) -> Reading:
        return self.snapshot().energy_j

    def snapshot(self) -> Snapshot:
        reading: Reading = {}
        breaks: dict[str, CounterBreak] = {}
        with self._lock:
            for gpu in self._gpus:
                counter = gpu.counter
                assert counter is not None  # set in __init__
                try:
                    t_before = time.perf_counter()
                    now_uj = _energy_uj(self._amdsmi, gpu.handle)
                    counter.advance(now_uj, t_before, time.perf_counter())
                    reading[gpu.domain.name] = counter.total_j
                except Exception as exc:  # amdsmi raises its own AmdSmiException tree
                    reading[gpu.domain.name] = SourceReadError(f"amdsmi failed: {exc}")
                if record := counter.break_record():
                    breaks[gpu.domain.name] = record
        return Snapshot(reading, breaks)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._amdsmi.amdsmi_shut_down()


def discover(amdsmi: ModuleType | None = None) -> tuple[list[EnergySource], list[MissingCounter]]:
    try:
        amdsmi = amdsmi or _import_amdsmi()
    except ImportError:
        return [], [
            MissingCounter(
                "amdsmi",
                "amdsmi is not installed (only needed for AMD GPUs)",
                "pip install genwatt[amd] on a ROCm machine",
            )
        ]
    try:
        amdsmi.amdsmi_init()
        handles = list(amdsmi.amdsmi_get_processor_handles())
    except Exception as exc:
        return [], [MissingCounter("amdsmi", f"amdsmi could not start: {exc}")]
    visible = os.environ.get("HIP_VISIBLE_DEVICES")
    if visible is not None:
        indices = [int(v) for v in visible.split(",") if v.strip().isdigit()]
        handles = [handles[i] for i in indices if i < len(handles)]
    gpus: list[_AmdGpu] = []
    missing: list[MissingCounter] = []
    for logical, handle in enumerate(handles):
        try:
            name = amdsmi.amdsmi_get_gpu_asic_info(handle).get("market_name", "AMD GPU")
            _energy_uj(amdsmi, handle)
        except Exception as exc:
            missing.append(MissingCounter("amdsmi", f"GPU {logical}: no energy counter: {exc}"))
            continue
        domain = Domain(
            name=f"gpu:{logical}",
            kind="gpu",
            source="amdsmi",
            method=Method.COUNTER,
            provenance=Provenance.MEASURED,
            device=str(name),
            resolution_s=AMDSMI_RESOLUTION_S,
        )
        gpus.append(_AmdGpu(domain, handle))
    if not gpus:
        if not missing:
            missing.append(MissingCounter("amdsmi", "amdsmi reports no AMD GPU"))
        return [], missing
    return [AmdSmiSource(amdsmi, gpus)], missing
