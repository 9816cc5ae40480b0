"""The leaderboard: every model and setting, per generation, with its cost in context.

One row per configuration of a series: energy per generation (one output; a batch of
four counts as four), the same per 1,000 generations (the unit of AI Energy Score),
CO2e on the report's grid, everyday equivalents of 1,000 generations, and how far the
run sits above the physical floor (the energy if every FLOP ran at the GPU's peak
rate and drew exactly its TDP), which only the predictor can say; without it the
row says why not.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

from genwatt.analysis.summary import ConfigSummary
from genwatt.carbon import Equivalent, GridIntensity, co2e, equivalents, grid_intensity
from genwatt.report import ratings
from genwatt.report.predicted import Predictor
from genwatt.report.provenance import ESTIMATED
from genwatt.report.series import Series
from genwatt.run.phases import GENERATION
from genwatt.units import j_to_kwh, j_to_wh

PER = 1000  # generations in the "per 1,000" columns


@dataclass(frozen=True)
class LeaderboardRow:
    task: str
    model: str
    settings: str
    hardware: str
    runs: int
    failed: int
    energy_j: float  # per generation, all domains
    latency_s: float  # per pipeline call
    co2e_g: float  # per generation
    equivalents: tuple[Equivalent, ...]  # of PER generations
    provenance: str
    gpu_energy_j: float | None  # per generation, GPU domains only
    predicted_energy_j: float | None  # per generation, GPU, predicted
    floor_j: float | None  # per generation
    floor_note: str  # why there is no floor ratio
    stars: int | None = None

    @property
    def energy_wh(self) -> float:
        return j_to_wh(self.energy_j)

    @property
    def energy_kwh_per_1000(self) -> float:
        return j_to_kwh(self.energy_j * PER)

    @property
    def above_floor(self) -> float | None:
        """GPU energy measured / physical floor; None without both."""
        if self.gpu_energy_j is None or not self.floor_j:
            return None
        return self.gpu_energy_j / self.floor_j


@dataclass(frozen=True)
class Leaderboard:
    rows: tuple[LeaderboardRow, ...]  # by task, then energy per generation
    grid: GridIntensity
    pue: float

    @property
    def rated_tasks(self) -> set[str]:
        return {r.task for r in self.rows if r.stars is not None}


def _gpu_energy_j(series: Series, summary: ConfigSummary) -> float | None:
    """Mean GPU energy (``gpu*`` domains) of the generation window, or None without one."""
    values = []
    for record in series.records_of(summary):
        window = record.window(GENERATION)
        gpu = {d: e for d, e in (window.energy_j if window else {}).items() if d.startswith("gpu")}
        if gpu:
            values.append(sum(gpu.values()))
    return statistics.fmean(values) if values else None


def _row(
    series: Series, summary: ConfigSummary, predictor: Predictor, country: str | None, pue: float
) -> LeaderboardRow:
    batch = int(summary.config.get("batch_size") or 1)
    energy_j = summary.mean_energy_j / batch
    # A net-of-idle figure can round below zero; emissions of nothing are nothing.
    emissions = co2e(energy_j if math.isfinite(energy_j) and energy_j > 0 else 0.0, country, pue)
    lookup = predictor(summary.config, series.environment)
    gpu_j = _gpu_energy_j(series, summary)
    point = lookup.point
    floor_j = point.floor_j / batch if point and point.floor_j else None
    if point is None:
        note = lookup.reason
    elif floor_j is None:
        note = "the predictor gives no physical floor for this configuration"
    elif gpu_j is None:
        note = "no GPU energy was recorded for these runs"
    else:
        note = ""
    return LeaderboardRow(
        task=series.task,
        model=series.model,
        settings=summary.label(),
        hardware=f"{series.device}: {series.hardware}",
        runs=summary.runs,
        failed=summary.failed,
        energy_j=energy_j,
        latency_s=summary.mean_latency_s,
        co2e_g=emissions.co2e_g,
        equivalents=tuple(equivalents(emissions.energy_j_facility * PER, emissions.co2e_g * PER)),
        provenance=str(summary.provenance or ESTIMATED),
        gpu_energy_j=None if gpu_j is None else gpu_j / batch,
        predicted_energy_j=None if point is None else point.energy_j / batch,
        floor_j=floor_j,
        floor_note=note,
    )


def build_leaderboard(
    series: Sequence[Series],
    predictor: Predictor,
    *,
    country: str | None = None,
    pue: float = 1.0,
) -> Leaderboard:
    """Rows for every measured configuration of every series, rated per task."""
    grid = grid_intensity(country)  # unknown countries fail here, before any row
    rows = [_row(s, summary, predictor, country, pue) for s in series for summary in s.measured]
    task_order = {task: i for i, task in enumerate(dict.fromkeys(s.task for s in series))}
    rows.sort(key=lambda r: (task_order[r.task], r.energy_j))
    rated = ratings.rate([(r.task, r.model, r.energy_j) for r in rows])
    rows = [_with_stars(r, count) for r, count in zip(rows, rated, strict=True)]
    return Leaderboard(tuple(rows), grid, pue)


def _with_stars(row: LeaderboardRow, count: int | None) -> LeaderboardRow:
    return replace(row, stars=count)
