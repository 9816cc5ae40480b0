"""Find every energy source on this machine, most accurate first.

GPUs come from NVML or amdsmi; CPU packages and DRAM from RAPL. Only a CPU or DRAM
domain that no counter covers gets an estimate, and the reason the counter is missing
is kept next to it, so ``genwatt env`` can say why a figure is estimated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from genwatt.meter.sources import amd, nvml, rapl
from genwatt.meter.sources.base import Domain, EnergySource, MissingCounter
from genwatt.meter.sources.estimate import EstimateSource


@dataclass
class Discovery:
    sources: list[EnergySource] = field(default_factory=list)
    missing: list[MissingCounter] = field(default_factory=list)

    @property
    def domains(self) -> list[Domain]:
        return [d for s in self.sources for d in s.domains]


def discover_sources(*, include_estimates: bool = True) -> Discovery:
    found = Discovery()
    for probe in (nvml.discover, amd.discover, rapl.discover):
        sources, missing = probe()
        found.sources.extend(sources)
        found.missing.extend(missing)
    if include_estimates:
        kinds = {d.kind for d in found.domains}
        need_cpu, need_dram = "cpu" not in kinds, "dram" not in kinds
        if need_cpu or need_dram:
            found.sources.append(EstimateSource(cpu=need_cpu, dram=need_dram))
    return found
