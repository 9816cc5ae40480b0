"""The leaderboard: models of one task ranked against each other, like with like.

A leaderboard ranks *models*, so it compares them where the comparison means
something: at the same settings (frames, resolution, steps; prompt and new tokens for
text), the settings measured on the most models of the task. The configurations of
one model are no competitors: they are listed, in the order measured and unranked,
in ``configurations``; with a single model of a task there is no ranking, and
``unranked`` says what would make one.

Every row gives the energy per generation (one output; a batch of four counts as
four), the same for 1,000 generations (the unit of AI Energy Score), CO2e on the
grid the runs were stored with, everyday equivalents of 1,000 generations, and how far the run sits
above the physical floor (the energy if every FLOP ran at the GPU's peak rate and
drew exactly its TDP), which only the predictor can say; without it the row says
why not.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from genwatt.analysis.summary import ConfigSummary
from genwatt.carbon import Equivalent, equivalents
from genwatt.carbon.setting import CarbonSetting, choose_setting
from genwatt.meter.phases import GENERATION
from genwatt.report import ratings
from genwatt.report.predicted import Predictor
from genwatt.report.provenance import ESTIMATED
from genwatt.report.series import TASK_NAMES, Series
from genwatt.units import j_to_kwh, j_to_wh

PER = 1000  # generations in the "per 1,000" columns


@dataclass(frozen=True)
class LeaderboardRow:
    task: str
    model: str
    series: str  # the series' label: model, weights, device and hardware
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
class Ranking:
    """The models of one task at one set of settings, least energy first."""

    task: str
    settings: str
    rows: tuple[LeaderboardRow, ...]
    other_shared: int  # further settings measured on two models or more (not ranked)
    left_out: tuple[str, ...]  # models of the task not measured at these settings

    @property
    def rated(self) -> bool:
        return any(r.stars is not None for r in self.rows)


@dataclass(frozen=True)
class Leaderboard:
    rankings: tuple[Ranking, ...]  # one per task with two models at the same settings
    configurations: tuple[LeaderboardRow, ...]  # every configuration, series by series
    # Each carbon setting the rows were priced on, described, with where it came from
    # ("stored with the runs", "as asked"): one entry when every run agrees.
    grids: tuple[str, ...]
    unranked: tuple[str, ...] = ()  # for each task without a ranking, why and what to run


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
    series: Series, summary: ConfigSummary, predictor: Predictor, setting: CarbonSetting
) -> LeaderboardRow:
    batch = int(summary.config.get("batch_size") or 1)
    energy_j = summary.mean_energy_j / batch
    # A net-of-idle figure can round below zero; emissions of nothing are nothing.
    emissions = setting.co2e(energy_j if math.isfinite(energy_j) else 0.0)
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
        series=series.label,
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


def _same_settings(summary: ConfigSummary) -> tuple[str, int]:
    """What must match for two rows to be compared: the settings and the batch size."""
    return summary.label(), int(summary.config.get("batch_size") or 1)


def _work(summary: ConfigSummary) -> float:
    sizes = (summary.config.get(k) for k in ("num_frames", "height", "width", "steps"))
    return math.prod(float(v) for v in sizes if isinstance(v, int | float) and v > 0)


def _task_name(task: str) -> str:
    return TASK_NAMES.get(task, task).lower()


def _ranking(
    task: str,
    series: Sequence[Series],
    row: Callable[[Series, ConfigSummary], LeaderboardRow],
) -> Ranking | str:
    """The task's ranking, or the sentence saying why it has none."""
    models = sorted({s.model for s in series})
    name = _task_name(task)
    if len(models) < 2:
        return (
            f"{name}: a leaderboard ranks models, and only {models[0]} was measured; "
            "`genwatt bench --model OTHER` with the same --frames, --height, --width and "
            "--steps adds a second one to rank against it"
        )
    at: dict[tuple[str, int], list[tuple[Series, ConfigSummary]]] = {}
    for item in series:
        for summary in item.measured:
            at.setdefault(_same_settings(summary), []).append((item, summary))
    shared = {k: v for k, v in at.items() if len({s.model for s, _ in v}) >= 2}
    if not shared:
        return (
            f"{name}: {len(models)} models ({', '.join(models)}), but no two measured at "
            "the same settings; run them with the same --frames, --height, --width and "
            "--steps to rank them"
        )
    key = max(shared, key=lambda k: (len({s.model for s, _ in shared[k]}), _work(shared[k][0][1])))
    members = shared[key]
    rows = sorted((row(s, summary) for s, summary in members), key=lambda r: r.energy_j)
    stars = ratings.rate([(r.task, r.model, r.energy_j) for r in rows])
    ranked = {s.model for s, _ in members}
    return Ranking(
        task=task,
        settings=members[0][1].label(),
        rows=tuple(replace(r, stars=count) for r, count in zip(rows, stars, strict=True)),
        other_shared=len(shared) - 1,
        left_out=tuple(m for m in models if m not in ranked),
    )


def build_leaderboard(
    series: Sequence[Series],
    predictor: Predictor,
    *,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
) -> Leaderboard:
    """A ranking of models per task, and a row for every measured configuration.

    CO2e: each configuration on the carbon setting its runs were stored with, with
    ``country`` or ``cloud`` and ``pue`` replacing its parts when given
    (``choose_setting``)."""
    choose_setting(None, country=country, pue=pue, cloud=cloud)  # a bad grid fails first
    rows: dict[tuple[str, str], LeaderboardRow] = {}
    grids: dict[str, None] = {}  # an ordered set

    def row(item: Series, summary: ConfigSummary) -> LeaderboardRow:
        key = (item.label, summary.key)  # each configuration is looked up once
        if key not in rows:
            setting, origin = choose_setting(summary.carbon, country=country, pue=pue, cloud=cloud)
            grids[f"{setting.describe()}: {origin}"] = None
            rows[key] = _row(item, summary, predictor, setting)
        return rows[key]

    configurations = [row(s, summary) for s in series for summary in s.measured]
    rankings: list[Ranking] = []
    unranked: list[str] = []
    for task in dict.fromkeys(s.task for s in series):
        found = _ranking(task, [s for s in series if s.task == task], row)
        if isinstance(found, Ranking):
            rankings.append(found)
        else:
            unranked.append(found)
    return Leaderboard(tuple(rankings), tuple(configurations), tuple(grids), tuple(unranked))
