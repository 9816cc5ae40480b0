"""AMD GPU energy through amdsmi (ROCm), when the library is installed.

``amdsmi_get_energy_count`` returns an accumulator in counts and the energy per count
(``counter_resolution``, microjoules); their product is the cumulative energy. ROCm
numbers GPUs by HIP_VISIBLE_DEVICES / ROCR_VISIBLE_DEVICES; genwatt honours the
common case of plain indices in HIP_VISIBLE_DEVICES.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from genwatt.errors import SourceReadError
from genwatt.meter.result import Method, Provenance
from genwatt.meter.sources.base import Domain, EnergySource, MissingCounter, Reading

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
    origin_uj: float = 0.0


class AmdSmiSource(EnergySource):
    name = "amdsmi"

    def __init__(self, amdsmi: ModuleType, gpus: list[_AmdGpu]) -> None:
        self._amdsmi = amdsmi
        self._gpus = gpus
        self._lock = threading.Lock()
        for gpu in gpus:
            gpu.origin_uj = _energy_uj(amdsmi, gpu.handle)

    @property
    def domains(self) -> list[Domain]:
        return [g.domain for g in self._gpus]

    def read_j(self) -> Reading:
        reading: Reading = {}
        with self._lock:
            for gpu in self._gpus:
                try:
                    now_uj = _energy_uj(self._amdsmi, gpu.handle)
                    reading[gpu.domain.name] = (now_uj - gpu.origin_uj) / 1e6
                except Exception as exc:  # amdsmi raises its own AmdSmiException tree
                    reading[gpu.domain.name] = SourceReadError(f"amdsmi failed: {exc}")
        return reading

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
