"""The comparisons of ``genwatt mitigate`` read back from stored runs, and their frontier.

Why apart from ``series``: a comparison is not a set of generations to rank but
strategies judged against one unmitigated reference on the same prompts and seeds. Its
runs (kind ``mitigation``, one per strategy, written by ``genwatt.mitigate.comparison.record``)
are kept out of the leaderboard, the scaling series and the timelines, and gathered here
instead: one ``StoredComparison`` per sweep, newest first, and the points of its figure.

Plain data, no matplotlib or HTML. The stored summary is the dict that
``StrategyResult.as_dict`` writes; it is read field by field without importing the
comparison code (which needs numpy and torch): only its names and thresholds, from
``genwatt.mitigate.comparison.conventions``. A field that is missing or not a number
reads as None rather than breaking the report.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from genwatt.mitigate.comparison.conventions import (
    MIN_WORK_SAVED,
    PSNR_CAP_DB,
    REFERENCE_NAME,
    RUN_KIND,
    timing_label,
)
from genwatt.store.records import RunRecord

# Draw the reference above the plot, off scale, when every strategy is this far below the
# cap: an axis up to 100 dB would squeeze the 20 to 45 dB where strategies differ.
OFF_SCALE_GAP_DB = 25.0
# Figures and tables for this many comparisons (the newest); older ones are only listed.
MAX_COMPARISONS = 3


def is_mitigation(record: RunRecord) -> bool:
    return record.kind == RUN_KIND


def _number(value: Any) -> float | None:
    """A finite float, or None (JSON null, a string, a bool, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _timing(value: Any) -> str | None:
    """A stored timing label as today's (earlier versions wrote "instrumented run")."""
    text = _text(value)
    return timing_label(text) if text is not None else None


@dataclass(frozen=True)
class Adherence:
    """Shares of clips showing the caption's colour, direction and shape, and all three.

    The parts are None in runs stored before they were kept, where only ``all_three``
    (then stored as "adherence") is known.
    """

    all_three: float | None
    colour: float | None = None
    direction: float | None = None
    shape: float | None = None

    @property
    def parts(self) -> dict[str, float] | None:
        """colour, direction and shape, when all three are known."""
        found = {"colour": self.colour, "direction": self.direction, "shape": self.shape}
        known = {k: v for k, v in found.items() if v is not None}
        return known if len(known) == len(found) else None


def _adherence(summary: Mapping[str, Any]) -> Adherence | None:
    """The stored adherence: a dict of the parts by name (now), ``adherence_rates``
    beside an overall number (earlier runs), or the overall number alone."""
    fields = ("all_three", "colour", "direction", "shape")
    stored = summary.get("adherence")
    rates = summary.get("adherence_rates")
    if isinstance(stored, Mapping):
        values = {f: stored.get(f) for f in fields}
    elif isinstance(rates, Mapping):
        values = {f: rates.get("overall_rate" if f == "all_three" else f"{f}_rate") for f in fields}
    else:
        values = {"all_three": stored}
    found = Adherence(**{f: _number(v) for f, v in values.items()})
    return found if found.all_three is not None or found.parts is not None else None


@dataclass(frozen=True)
class StrategyRow:
    """One strategy of a comparison, as stored. Ratios are reference / strategy (>1: saved).

    ``flops_ratio`` is ``inf`` for a strategy that ran no denoising at all (a reuse cache
    that served every case): the stored JSON has no infinity and writes null for it.
    """

    name: str
    kind: str
    ok: bool
    error: str | None
    cases: int
    flops: float | None
    flops_ratio: float | None
    energy_j: float | None  # summed over the cases
    energy_ratio: float | None
    latency_ratio: float | None
    provenance: str | None  # of the energy
    psnr_db: float | None  # mean over the cases, each capped at PSNR_CAP_DB
    psnr_db_min: float | None
    share_good: float | None  # share of cases at GOOD_PSNR_DB or better
    ssim: float | None
    adherence: Adherence | None  # None when the prompts were not checkable captions
    # How its seconds and joules were taken (the labels of ``conventions``), and how
    # the reference's were for its ratios; None in runs stored before timing was recorded.
    timing: str | None = None
    ratio_baseline_timing: str | None = None
    timed_output_matches: bool | None = None  # False: a timed run made another output

    @property
    def is_reference(self) -> bool:
        return self.name == REFERENCE_NAME and self.kind == "baseline"

    @property
    def saves_work(self) -> bool | None:
        """Whether it saved at least ``MIN_WORK_SAVED`` of the reference's FLOPs; None if
        unknown. One that saved nothing is no point of the trade-off (see ``pareto_data``).
        """
        if self.is_reference or not self.ok or self.flops_ratio is None:
            return None
        return self.flops_ratio >= 1.0 / (1.0 - MIN_WORK_SAVED)

    @property
    def energy_per_case_j(self) -> float | None:
        if self.energy_j is None or not self.cases:
            return None
        return self.energy_j / self.cases


def strategy_row(record: RunRecord) -> StrategyRow:
    """The row of one stored run; the run's own fields fill what the summary lacks."""
    stored = record.extra.get("mitigation")
    summary: Mapping[str, Any] = stored if isinstance(stored, Mapping) else {}
    cases = summary.get("cases")
    ok = bool(summary.get("ok", record.ok)) and record.ok
    error = summary.get("error") or record.error
    provenance = summary.get("energy_provenance")
    return StrategyRow(
        name=str(summary.get("name") or record.config.get("strategy") or record.config_key),
        kind=str(summary.get("kind") or record.config.get("strategy_kind") or "baseline"),
        ok=ok,
        error=None if ok else str(error or "no case ran"),
        cases=len(cases) if isinstance(cases, list) else int(record.config.get("n_cases") or 0),
        flops=_number(summary.get("flops")),
        flops_ratio=_number(summary.get("flops_ratio")),
        energy_j=_number(summary.get("energy_j")),
        energy_ratio=_number(summary.get("energy_ratio")),
        latency_ratio=_number(summary.get("latency_ratio")),
        provenance=str(provenance) if provenance else None,
        psnr_db=_number(summary.get("psnr_db")),
        psnr_db_min=_number(summary.get("psnr_db_min")),
        share_good=_number(summary.get("share_psnr_at_least_30db")),
        ssim=_number(summary.get("ssim")),
        adherence=_adherence(summary),
        timing=_timing(summary.get("timing")),
        ratio_baseline_timing=_timing(summary.get("ratio_baseline_timing")),
        timed_output_matches=(
            matches if isinstance(matches := summary.get("timed_output_matches"), bool) else None
        ),
    )


@dataclass(frozen=True)
class StoredComparison:
    """Every strategy of one ``genwatt mitigate`` run (one sweep), reference first."""

    sweep: str
    model: str
    started_at: float  # Unix time
    n_cases: int
    call: dict[str, Any]  # the pipeline arguments every case was generated with
    rows: tuple[StrategyRow, ...]
    last_id: int = 0  # breaks ties between comparisons started in the same second

    @property
    def reference(self) -> StrategyRow | None:
        return next((r for r in self.rows if r.is_reference), None)

    @property
    def strategies(self) -> tuple[StrategyRow, ...]:
        return tuple(r for r in self.rows if not r.is_reference)

    @property
    def failed(self) -> tuple[StrategyRow, ...]:
        return tuple(r for r in self.strategies if not r.ok)

    @property
    def started(self) -> str:
        return datetime.fromtimestamp(self.started_at).strftime("%Y-%m-%d %H:%M")


def _infinite_savings(rows: list[StrategyRow]) -> list[StrategyRow]:
    """Restore the ``inf`` that JSON wrote as null: no FLOPs run against some."""
    reference = next((r for r in rows if r.is_reference), None)
    if reference is None or not reference.flops:
        return rows
    return [
        replace(r, flops_ratio=math.inf)
        if r.ok and not r.is_reference and r.flops_ratio is None and r.flops == 0
        else r
        for r in rows
    ]


def comparisons(records: Iterable[RunRecord]) -> list[StoredComparison]:
    """The mitigation runs among ``records``, one comparison per sweep, newest first."""
    groups: dict[str, list[RunRecord]] = {}
    for record in records:
        if is_mitigation(record):
            groups.setdefault(record.sweep or f"run {record.id}", []).append(record)
    found = []
    for sweep, members in groups.items():
        rows = _infinite_savings([strategy_row(r) for r in members])
        rows.sort(key=lambda r: not r.is_reference)  # stable: stored order otherwise
        first = members[0].config
        found.append(
            StoredComparison(
                sweep=sweep,
                model=str(first.get("model") or "unknown model"),
                started_at=min(r.started_at for r in members),
                n_cases=int(first.get("n_cases") or max((r.cases for r in rows), default=0)),
                call={
                    k.removeprefix("call_"): v for k, v in first.items() if k.startswith("call_")
                },
                rows=tuple(rows),
                last_id=max(r.id or 0 for r in members),
            )
        )
    return sorted(found, key=lambda c: (c.started_at, c.last_id), reverse=True)


# ----------------------------------------------------------------------------- frontier


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both axes, by increasing x.

    Both axes are to be maximised (work saved, quality kept). A point is dominated when
    another is at least as good on both and better on one; equal points are all kept,
    since neither is the better choice.
    """

    def dominated(i: int) -> bool:
        x, y = points[i]
        return any(
            (ox >= x and oy >= y) and (ox > x or oy > y)
            for j, (ox, oy) in enumerate(points)
            if j != i
        )

    front = [i for i in range(len(points)) if not dominated(i)]
    return sorted(front, key=lambda i: (points[i][0], -points[i][1]))


@dataclass(frozen=True)
class ParetoPoint:
    name: str
    kind: str  # cache, reuse, baseline; "reference" for the unmitigated run
    saving: float  # x: reference FLOPs / the strategy's; inf when it ran none
    psnr_db: float  # y: mean PSNR against the reference, capped at PSNR_CAP_DB
    provenance: str | None  # of its energy: how its marker is filled
    on_front: bool = False


@dataclass(frozen=True)
class ParetoData:
    """Work saved against quality kept, for every strategy of a comparison that finished."""

    title: str
    sweep: str
    points: tuple[ParetoPoint, ...]  # the reference first, when stored
    n_cases: int
    strategies: int  # every strategy tried, finished or not (reference excluded)
    failed: tuple[str, ...]
    unplotted: tuple[str, ...]  # finished, but with no FLOP ratio or no PSNR to place them
    energy_ratios: bool  # whether any strategy has an energy ratio (shown in the table)
    # Finished but saved no work on these prompts (exact reuse of prompts that never
    # repeat): not drawn, since a point that trades nothing is no part of a trade-off.
    no_saving: tuple[str, ...] = ()

    @property
    def reference(self) -> ParetoPoint | None:
        return next((p for p in self.points if p.kind == "reference"), None)

    @property
    def reference_off_scale(self) -> bool:
        """True when the reference is drawn above the plot rather than at the cap."""
        best = max((p.psnr_db for p in self.points if p.kind != "reference"), default=0.0)
        return self.reference is not None and best < PSNR_CAP_DB - OFF_SCALE_GAP_DB

    @property
    def front(self) -> tuple[ParetoPoint, ...]:
        """The frontier's points by increasing saving: the step line's corners."""
        return tuple(sorted((p for p in self.points if p.on_front), key=lambda p: p.saving))


def pareto_data(comparison: StoredComparison) -> ParetoData | None:
    """The figure's points, or None when no strategy finished with a saving and a PSNR.

    A strategy that saved no work is left out of the points (``no_saving``): at the
    reference's own cost and quality it would tie with it and be drawn on the frontier,
    which would read as a trade-off worth making.
    """
    placed: list[ParetoPoint] = []
    unplotted: list[str] = []
    no_saving: list[str] = []
    reference = comparison.reference
    if reference is not None and reference.ok:
        placed.append(
            ParetoPoint(reference.name, "reference", 1.0, PSNR_CAP_DB, reference.provenance)
        )
    for row in comparison.strategies:
        if not row.ok:
            continue
        if row.flops_ratio is None or row.psnr_db is None:
            unplotted.append(row.name)
            continue
        if row.saves_work is False:
            no_saving.append(row.name)
            continue
        placed.append(ParetoPoint(row.name, row.kind, row.flops_ratio, row.psnr_db, row.provenance))
    if not any(p.kind != "reference" for p in placed):
        return None
    front = set(pareto_front([(p.saving, p.psnr_db) for p in placed]))
    return ParetoData(
        title=f"{comparison.model} · {comparison.started}",
        sweep=comparison.sweep,
        points=tuple(replace(p, on_front=i in front) for i, p in enumerate(placed)),
        n_cases=comparison.n_cases,
        strategies=len(comparison.strategies),
        failed=tuple(r.name for r in comparison.failed),
        unplotted=tuple(unplotted),
        energy_ratios=any(r.energy_ratio is not None for r in comparison.strategies),
        no_saving=tuple(no_saving),
    )


@dataclass(frozen=True)
class ComparisonFigures:
    comparison: StoredComparison
    pareto: ParetoData | None


@dataclass(frozen=True)
class MitigationSection:
    """What "Cutting the energy" shows: the newest comparisons in full, the rest listed."""

    shown: tuple[ComparisonFigures, ...] = ()
    older: tuple[StoredComparison, ...] = ()

    @property
    def figure_count(self) -> int:
        return sum(item.pareto is not None for item in self.shown)


def mitigation_section(
    records: Iterable[RunRecord], limit: int = MAX_COMPARISONS
) -> MitigationSection:
    found = comparisons(records)
    return MitigationSection(
        shown=tuple(ComparisonFigures(c, pareto_data(c)) for c in found[:limit]),
        older=tuple(found[limit:]),
    )
