"""One row per configuration of a sweep: repeats averaged, phases kept, provenance carried."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from genwatt.meter.aggregate import weakest
from genwatt.meter.result import Provenance
from genwatt.run.phases import OTHER, PHASES, breakdown
from genwatt.store.records import RunRecord


@dataclass
class ConfigSummary:
    key: str
    config: dict[str, Any]
    runs: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    latency_s: list[float] = field(default_factory=list)
    energy_j: list[float] = field(default_factory=list)
    phases_j: dict[str, list[float]] = field(default_factory=dict)
    provenance: Provenance | None = None

    @property
    def mean_latency_s(self) -> float:
        return statistics.fmean(self.latency_s) if self.latency_s else float("nan")

    @property
    def mean_energy_j(self) -> float:
        return statistics.fmean(self.energy_j) if self.energy_j else float("nan")

    def mean_phase_j(self, phase: str) -> float:
        values = self.phases_j.get(phase)
        return statistics.fmean(values) if values else float("nan")

    @property
    def pixels(self) -> int | None:
        h, w = self.config.get("height"), self.config.get("width")
        return h * w if h and w else None

    def label(self) -> str:
        c = self.config
        parts = []
        if c.get("num_frames"):
            parts.append(f"{c['num_frames']}f")
        if c.get("height"):
            parts.append(f"{c['width']}x{c['height']}")
        if c.get("steps"):
            parts.append(f"{c['steps']} st")
        return " ".join(parts) or self.key

    def scaling_row(self) -> dict[str, float]:
        return {
            "num_frames": self.config.get("num_frames") or 0,
            "pixels": self.pixels or 0,
            "steps": self.config.get("steps") or 0,
            "energy_j": self.mean_energy_j if self.energy_j else 0.0,
            "denoise_j": self.mean_phase_j("denoise") if self.phases_j.get("denoise") else 0.0,
            "latency_s": self.mean_latency_s if self.latency_s else 0.0,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "config": self.config,
            "runs": self.runs,
            "failed": self.failed,
            "errors": self.errors,
            "latency_s": self.mean_latency_s,
            "energy_j": self.mean_energy_j,
            "phases_j": {p: self.mean_phase_j(p) for p in self.phases_j},
            "provenance": str(self.provenance) if self.provenance else None,
        }


def summarize_runs(records: list[RunRecord]) -> list[ConfigSummary]:
    """Group a sweep's runs by configuration key, in the order first seen."""
    groups: dict[str, ConfigSummary] = {}
    for record in records:
        key = record.config_key or str(record.id)
        summary = groups.setdefault(key, ConfigSummary(key=key, config=dict(record.config)))
        if not record.ok:
            summary.failed += 1
            if record.error:
                summary.errors.append(record.error)
            continue
        summary.runs += 1
        parts = breakdown(record.windows)
        summary.latency_s.append(parts.total.duration_s)
        summary.energy_j.append(parts.total.total_energy_j)
        for phase in (*PHASES, OTHER):
            summary.phases_j.setdefault(phase, []).append(parts.energy_j(phase))
        kind = parts.total.overall_provenance()
        summary.provenance = weakest(summary.provenance or kind, kind)
    return list(groups.values())
