"""Everything a report shows, gathered from stored runs into plain data (no HTML yet).

``collect`` is the one place that decides what goes into a report: the series and
their figures' data, the leaderboard, the runs with a power timeline, the runs that
are not generations, the mitigation comparisons, and the facts the page states at the
top (a headline per series, how many runs, which failed, whether any figure was
measured at all).

Runs of ``genwatt mitigate`` (kind ``mitigation``) go to their own section only: a
strategy's energy is summed over many cases and a strategy is no configuration to rank,
so they stay out of the series, the leaderboard, the timelines and the commands. Runs
of ``genwatt suite`` (kind ``suite``, one per task, model and batch size, summed over
many queries) have their own sections too (``suite_section``). The facts at the top
count every run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from genwatt.report.figdata import (
    PhaseData,
    ScalingData,
    StepData,
    TimelineData,
    phase_data,
    scaling_data,
    step_data,
    timeline_data,
)
from genwatt.report.footprint_section import FootprintSection, footprint_section
from genwatt.report.headline import Headline, headline
from genwatt.report.leaderboard import Leaderboard, build_leaderboard
from genwatt.report.mitigation import MitigationSection, is_mitigation, mitigation_section
from genwatt.report.predicted import Predictor
from genwatt.report.provenance import ORDER
from genwatt.report.series import Series, group_series, is_generation
from genwatt.report.suite_section import SuiteSection, is_suite, suite_section
from genwatt.store.records import RunRecord
from genwatt.version import __version__

MAX_OTHER_RUNS = 50


@dataclass(frozen=True)
class SeriesFigures:
    series: Series
    scaling: ScalingData | None
    phases: PhaseData | None
    steps: StepData | None


@dataclass(frozen=True)
class ReportContent:
    store: str
    filters: dict[str, str]
    generated_at: float  # Unix time
    runs: int
    failed: int
    provenance_counts: dict[str, int]  # successful runs by the provenance of their total
    series: tuple[SeriesFigures, ...]
    leaderboard: Leaderboard
    timelines: tuple[TimelineData, ...]
    other_runs: tuple[RunRecord, ...]  # not generations: ``genwatt measure`` of commands
    other_runs_total: int
    sweeps: tuple[str, ...] = ()  # in the order first stored
    headlines: tuple[Headline, ...] = ()  # one per series, in the series' order
    mitigation: MitigationSection = field(default_factory=MitigationSection)
    suite: SuiteSection = field(default_factory=SuiteSection)
    # Each stored configuration at a daily volume (``--daily-volume``); empty without one.
    footprint: FootprintSection = field(default_factory=FootprintSection)
    version: str = field(default=__version__)

    @property
    def estimated_only(self) -> bool:
        """True when no figure of the report comes from a hardware counter."""
        return sum(self.provenance_counts.values()) > 0 and not self.provenance_counts.get(
            "measured"
        )

    @property
    def figure_count(self) -> int:
        per_series = sum(
            (s.scaling is not None) + (s.phases is not None) + (s.steps is not None)
            for s in self.series
        )
        return (
            per_series
            + len(self.timelines)
            + self.mitigation.figure_count
            + self.suite.figure_count
        )


def _provenance_counts(records: Sequence[RunRecord]) -> dict[str, int]:
    counts = dict.fromkeys(ORDER, 0)
    for record in records:
        main = record.main_window
        if record.ok and main is not None and main.energy_j:
            kind = str(main.overall_provenance())
            counts[kind] = counts.get(kind, 0) + 1
    return {k: v for k, v in counts.items() if v}


def collect(
    records: Sequence[RunRecord],
    predictor: Predictor,
    *,
    store: str = "",
    filters: dict[str, str] | None = None,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
    daily_volume: float | None = None,
) -> ReportContent:
    """Gather the report of ``records``; predictions come from ``predictor``; with
    ``daily_volume``, each stored configuration's footprint at that many queries a day."""
    generations = [r for r in records if not is_mitigation(r) and not is_suite(r)]
    series = group_series(generations)
    others = [r for r in generations if not is_generation(r)]
    return ReportContent(
        store=store,
        filters=dict(filters or {}),
        generated_at=time.time(),
        runs=len(records),
        failed=sum(not r.ok for r in records),
        provenance_counts=_provenance_counts(records),
        series=tuple(
            SeriesFigures(s, scaling_data(s, predictor), phase_data(s, predictor), step_data(s))
            for s in series
        ),
        leaderboard=build_leaderboard(series, predictor, country=country, pue=pue, cloud=cloud),
        timelines=tuple(timeline_data(generations)),
        other_runs=tuple(sorted(others, key=lambda r: r.id or 0, reverse=True)[:MAX_OTHER_RUNS]),
        other_runs_total=len(others),
        sweeps=tuple(dict.fromkeys(r.sweep for r in records if r.sweep)),
        headlines=tuple(
            h
            for s in series
            if (
                h := headline(
                    s.model, s.measured, country=country, pue=pue, cloud=cloud, name=s.label
                )
            )
        ),
        mitigation=mitigation_section(records),
        suite=suite_section(records),
        footprint=footprint_section(records, daily_volume, country=country, pue=pue, cloud=cloud),
    )
