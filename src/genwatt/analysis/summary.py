"""One row per configuration of a sweep: repeats averaged, phases kept, provenance carried."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from genwatt.carbon.setting import CarbonSetting, stored_setting
from genwatt.errors import GenwattError
from genwatt.labels import settings_label
from genwatt.meter.aggregate import weakest
from genwatt.meter.phases import OTHER, breakdown
from genwatt.meter.result import Provenance
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
    # The carbon setting (grid snapshot and PUE) the runs were stored with, the latest
    # one; None when no run stored one. ``carbon_error`` says why a stored one is unusable.
    carbon: CarbonSetting | None = None
    carbon_error: str | None = None

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
        return settings_label(self.config) or self.key

    def scaling_row(self) -> dict[str, float]:
        """The configuration's variables and mean responses, for ``fit_power_law``."""
        c = self.config
        row = {
            "num_frames": c.get("num_frames"),
            "pixels": self.pixels,
            "steps": c.get("steps"),
            "max_text_tokens": c.get("max_text_tokens"),
            "max_new_tokens": c.get("max_new_tokens"),
            "energy_j": self.mean_energy_j if self.energy_j else None,
            "latency_s": self.mean_latency_s if self.latency_s else None,
        }
        for phase in ("denoise", "decode"):
            if self.phases_j.get(phase):
                row[f"{phase}_j"] = self.mean_phase_j(phase)
        return {k: float(v) for k, v in row.items() if v}

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
            "country": self.carbon.intensity.iso3 if self.carbon else None,
            "co2e_g": self.mean_co2e_g,
            "carbon": self.carbon.to_dict() if self.carbon else None,
        }

    @property
    def mean_co2e_g(self) -> float | None:
        """CO2e of the mean run on the grid the runs were stored with; None without one
        (or without energy): never priced on a grid the runs did not name."""
        if self.carbon is None or not self.energy_j:
            return None
        return self.carbon.co2e_g(self.mean_energy_j)


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
        for phase in (*parts.phases, OTHER):
            summary.phases_j.setdefault(phase, []).append(parts.energy_j(phase))
        kind = parts.total.overall_provenance()
        summary.provenance = weakest(summary.provenance or kind, kind)
        _keep_carbon(summary, record)
    return list(groups.values())


def _keep_carbon(summary: ConfigSummary, record: RunRecord) -> None:
    """Remember the grid a run stored, so its CO2e is never recomputed on another one."""
    try:
        setting = stored_setting(record.extra)
    except GenwattError as exc:  # a country code this version's table does not know
        summary.carbon_error = str(exc)
        return
    if setting is not None:
        summary.carbon = setting
