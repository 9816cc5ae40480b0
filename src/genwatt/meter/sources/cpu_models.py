"""Thermal design power of common server and desktop CPUs, for the CPU estimate.

Each row: a pattern matched against the CPU model string, the TDP in watts and the
number of hardware threads, from the vendor's product page (AMD: amd.com/en/products
/processors/server/epyc and /desktops; Intel: ark.intel.com), as read in 2025. TDP is
the sustained package power the part is designed for; real draw varies with load and
boost, which is why every figure built from this table is labelled ``estimated``.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CpuModel:
    pattern: str
    tdp_w: float
    threads: int
    citation: str

    @property
    def watts_per_thread(self) -> float:
        return self.tdp_w / self.threads


_AMD = "AMD product page, amd.com"
_INTEL = "Intel ARK, ark.intel.com"

CPU_MODELS: tuple[CpuModel, ...] = (
    CpuModel(r"EPYC 9654\b", 360, 192, _AMD),
    CpuModel(r"EPYC 9554\b", 360, 128, _AMD),
    CpuModel(r"EPYC 9474F\b", 360, 96, _AMD),
    CpuModel(r"EPYC 9454\b", 290, 96, _AMD),
    CpuModel(r"EPYC 7763\b", 280, 128, _AMD),
    CpuModel(r"EPYC 7742\b", 225, 128, _AMD),
    CpuModel(r"EPYC 7543\b", 225, 64, _AMD),
    CpuModel(r"EPYC 7413\b", 180, 48, _AMD),
    CpuModel(r"Ryzen 9 7950X\b", 170, 32, _AMD),
    CpuModel(r"Ryzen 9 5950X\b", 105, 32, _AMD),
    CpuModel(r"Xeon\(R\) Platinum 8480\+|Xeon Platinum 8480\+", 350, 112, _INTEL),
    CpuModel(r"Platinum 8468\b", 350, 96, _INTEL),
    CpuModel(r"Platinum 8462Y\+", 300, 64, _INTEL),
    CpuModel(r"Platinum 8380\b", 270, 80, _INTEL),
    CpuModel(r"Platinum 8358\b", 250, 64, _INTEL),
    CpuModel(r"Gold 6248R\b", 205, 48, _INTEL),
    CpuModel(r"Gold 6338\b", 205, 64, _INTEL),
    CpuModel(r"i9-13900K\b", 125, 32, _INTEL),
    CpuModel(r"i9-12900K\b", 125, 24, _INTEL),
    CpuModel(r"i7-12700K\b", 125, 20, _INTEL),
)

# For a CPU not in the table: the median TDP per hardware thread over the server parts
# above (EPYC and Xeon), so the default is derived from cited figures, not picked.
DEFAULT_WATTS_PER_THREAD = statistics.median(
    m.watts_per_thread for m in CPU_MODELS if "EPYC" in m.pattern or "Platinum" in m.pattern
)


def cpu_model_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's marketing name, or 'unknown CPU'."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown CPU"


def lookup_cpu_model(name: str) -> CpuModel | None:
    for model in CPU_MODELS:
        if re.search(model.pattern, name):
            return model
    return None
