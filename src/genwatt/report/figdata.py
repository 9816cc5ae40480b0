"""The numbers behind each figure, computed from stored runs; no drawing here.

Kept apart from ``figures`` (which only draws) so that what a figure shows can be
tested exactly, without matplotlib, and so that a PNG, an SVG and a test all see the
same values. Energies are joules and times seconds, as everywhere inside genwatt;
figures pick display units.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from genwatt.analysis.scaling import VARIABLES, Exponent, fit_power_law
from genwatt.analysis.summary import ConfigSummary
from genwatt.meter.phases import (
    DECODE,
    DENOISE,
    IMAGE_ENCODE,
    OTHER,
    PREFILL,
    TEXT_ENCODE,
    VAE_DECODE,
    VAE_ENCODE,
    breakdown,
    step_index,
)
from genwatt.report.predicted import Lookup, Predictor
from genwatt.report.provenance import ESTIMATED, PREDICTED, weakest
from genwatt.report.series import Series
from genwatt.store.records import RunRecord

VARIABLE_LABELS = {
    "num_frames": "frames",
    "pixels": "pixels (height × width)",
    "steps": "denoising steps",
    "max_text_tokens": "prompt tokens",
    "max_new_tokens": "new tokens",
}
RESPONSE_LABELS = {"energy_j": "energy per generation", "latency_s": "latency"}
# Phases in the order a generation runs them (encoders, the loop, the decoder).
PHASE_ORDER = (TEXT_ENCODE, IMAGE_ENCODE, VAE_ENCODE, PREFILL, DENOISE, DECODE, VAE_DECODE, OTHER)
MAX_STEP_LINES = 6
MAX_TIMELINES = 4
MAX_TITLE_CHARS = 70


# ----------------------------------------------------------------------------- scaling


@dataclass(frozen=True)
class ScalingPanel:
    """One response against one variable: every configuration, the fit, the prediction.

    ``fit_x``/``fit_y`` are the ends of the fitted line: slope ``slope`` in log-log
    space through the centroid (mean log x, mean log y) of the fitted points, i.e. the
    multiplicative fit with every other variable at its geometric mean. The predicted
    curve is, at each level of the variable, the geometric mean of the predictions for
    the configurations at that level (a level is left out unless all of them have one).
    """

    variable: str
    response: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    provenance: tuple[str, ...]
    slope: float | None = None
    ci95: tuple[float, float] | None = None
    ci_note: str = ""  # why there is no interval, when there is none
    fit_x: tuple[float, float] | None = None
    fit_y: tuple[float, float] | None = None
    predicted_x: tuple[float, ...] = ()
    predicted_y: tuple[float, ...] = ()


@dataclass(frozen=True)
class ScalingData:
    series: str
    panels: tuple[ScalingPanel, ...]
    r_squared: dict[str, float]
    predicted_note: str = ""  # why there is no predicted curve, if there is none


def _gmean(values: Sequence[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


def _ci95(exponent: Exponent) -> tuple[float, float] | None:
    if exponent.ci_low is None or exponent.ci_high is None:
        return None
    return (exponent.ci_low, exponent.ci_high)


def _predicted(lookup: Lookup, response: str) -> float | None:
    point = lookup.point
    if point is None:
        return None
    return point.energy_j if response == "energy_j" else point.latency_s


def scaling_data(series: Series, predictor: Predictor) -> ScalingData | None:
    """Energy and latency against every variable the series varies; None if none varies."""
    summaries = series.measured
    rows = [s.scaling_row() for s in summaries]
    lookups = [predictor(s.config, series.environment) for s in summaries]
    panels: list[ScalingPanel] = []
    r_squared: dict[str, float] = {}
    for response in RESPONSE_LABELS:
        fit = fit_power_law(rows, response)
        if not fit.exponents:
            continue
        r_squared[response] = fit.r_squared
        varying = list(fit.exponents)
        usable = [
            i
            for i, r in enumerate(rows)
            if (r.get(response) or 0) > 0 and all((r.get(v) or 0) > 0 for v in varying)
        ]
        mean_log_y = statistics.fmean(math.log(rows[i][response]) for i in usable)
        for variable in (v for v in VARIABLES if v in fit.exponents):
            exponent = fit.exponents[variable]
            xs = [rows[i][variable] for i in usable]
            mean_log_x = statistics.fmean(math.log(x) for x in xs)
            ends = (min(xs), max(xs))
            fit_y = tuple(
                math.exp(mean_log_y + exponent.value * (math.log(x) - mean_log_x)) for x in ends
            )
            levels: dict[float, list[float | None]] = {}
            for i in usable:
                levels.setdefault(rows[i][variable], []).append(_predicted(lookups[i], response))
            predicted = [
                (level, _gmean([v for v in values if v is not None]))
                for level, values in sorted(levels.items())
                if all(v is not None and v > 0 for v in values)
            ]
            panels.append(
                ScalingPanel(
                    variable=variable,
                    response=response,
                    x=tuple(xs),
                    y=tuple(rows[i][response] for i in usable),
                    provenance=tuple(str(summaries[i].provenance or ESTIMATED) for i in usable),
                    slope=exponent.value,
                    ci95=_ci95(exponent),
                    ci_note="" if exponent.has_ci else fit.note,
                    fit_x=ends,
                    fit_y=(fit_y[0], fit_y[1]),
                    predicted_x=tuple(level for level, _ in predicted),
                    predicted_y=tuple(value for _, value in predicted),
                )
            )
    if not panels:
        return None
    reasons = sorted({lk.reason for lk in lookups if lk.point is None})
    note = "" if any(p.predicted_x for p in panels) else "; ".join(reasons)
    return ScalingData(series.label, tuple(panels), r_squared, note)


# ------------------------------------------------------------------------------ phases


@dataclass(frozen=True)
class PhaseBar:
    """One configuration's mean energy per phase (negatives clamped at 0 for stacking)."""

    label: str
    phases_j: dict[str, float]
    provenance: str

    @property
    def total_j(self) -> float:
        return sum(self.phases_j.values())

    @property
    def shares(self) -> dict[str, float]:
        """Each phase's share of the bar (0 to 1), for the labels on its segments."""
        total = self.total_j
        return {p: v / total for p, v in self.phases_j.items()} if total > 0 else {}

    def share_label(self, phase: str) -> str:
        """``66 %``: the share as the figure writes it on the segment."""
        return f"{self.shares.get(phase, 0.0) * 100:.0f} %"


@dataclass(frozen=True)
class PhaseData:
    series: str
    phases: tuple[str, ...]
    bars: tuple[PhaseBar, ...]


def phase_data(series: Series, predictor: Predictor) -> PhaseData | None:
    """A bar per configuration, followed by its predicted bar when there is a prediction."""
    bars: list[PhaseBar] = []
    for summary in series.measured:
        phases = {
            p: max(0.0, summary.mean_phase_j(p)) for p in PHASE_ORDER if summary.phases_j.get(p)
        }
        if not phases:
            continue
        bars.append(PhaseBar(summary.label(), phases, str(summary.provenance or ESTIMATED)))
        point = predictor(summary.config, series.environment).point
        if point is not None and point.phases_j:
            predicted = {p: max(0.0, point.phases_j[p]) for p in PHASE_ORDER if p in point.phases_j}
            bars.append(PhaseBar(f"{summary.label()} (predicted, GPU)", predicted, PREDICTED))
    if not bars:
        return None
    present = tuple(p for p in PHASE_ORDER if any(p in b.phases_j for b in bars))
    return PhaseData(series.label, present, tuple(bars))


# ------------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class StepLine:
    label: str
    index: tuple[int, ...]
    energy_j: tuple[float, ...]  # mean over the configuration's runs, per step
    provenance: str


@dataclass(frozen=True)
class StepData:
    series: str
    unit: str  # "denoising step" or "decoded token"
    lines: tuple[StepLine, ...]
    configurations: int  # how many have the most steps; ``lines`` shows MAX_STEP_LINES


def _step_line(summary: ConfigSummary, records: Iterable[RunRecord]) -> StepLine | None:
    per_index: dict[int, list[float]] = {}
    kinds: list[str] = []
    for record in records:
        for step in breakdown(record.windows).steps:
            per_index.setdefault(step_index(step), []).append(step.total_energy_j)
            kinds.append(str(step.overall_provenance()))
    if not per_index:
        return None
    index = tuple(sorted(per_index))
    energy = tuple(statistics.fmean(per_index[i]) for i in index)
    return StepLine(summary.label(), index, energy, weakest(kinds))


def _spread(lines: list[StepLine], count: int) -> list[StepLine]:
    """``count`` lines evenly spread over the range of mean step energy (all if fewer)."""
    if len(lines) <= count:
        return lines
    ordered = sorted(lines, key=lambda line: statistics.fmean(line.energy_j))
    picks = sorted({round(i * (len(ordered) - 1) / (count - 1)) for i in range(count)})
    return [ordered[i] for i in picks]


def step_data(series: Series) -> StepData | None:
    """Energy of each step, for the configurations with the most steps; None when no
    configuration has two (one step's energy is already its phase's bar)."""
    lines = [
        line
        for summary in series.measured
        if (line := _step_line(summary, series.records_of(summary))) is not None
    ]
    if not lines:
        return None
    most = max(len(line.index) for line in lines)
    if most < 2:
        return None
    longest = [line for line in lines if len(line.index) == most]
    tokens = any(DECODE in s.phases_j for s in series.measured)  # token:<i> windows
    return StepData(
        series=series.label,
        unit="decoded token" if tokens else "denoising step",
        lines=tuple(_spread(longest, MAX_STEP_LINES)),
        configurations=len(longest),
    )


# --------------------------------------------------------------------------- timelines


@dataclass(frozen=True)
class TimelineData:
    """Power per domain over one window of one run, as sampled by the meter."""

    title: str
    window: str
    t_s: tuple[float, ...]
    power_w: dict[str, tuple[float, ...]]
    provenance: dict[str, str]
    energy_j: float
    duration_s: float
    provenance_total: str = field(default=ESTIMATED)


def run_label(record: RunRecord) -> str:
    """``run 12: wan-tiny 5f 32x32 2 steps`` or ``run 3: python3 train.py``, cut to fit."""
    config = record.config
    if config.get("model"):
        what = f"{config['model']} {ConfigSummary(key='', config=dict(config)).label()}"
    else:
        what = str(config.get("command") or record.kind)
    text = f"run {record.id}: {what}"
    return text if len(text) <= MAX_TITLE_CHARS else text[: MAX_TITLE_CHARS - 1] + "…"


def timeline_data(records: Iterable[RunRecord]) -> list[TimelineData]:
    """The most recent runs stored with a power timeline, newest first."""
    found: list[TimelineData] = []
    for record in sorted(records, key=lambda r: r.id or 0, reverse=True):
        main = record.main_window
        candidates = [main, *record.windows] if main is not None else list(record.windows)
        window = next((w for w in candidates if w is not None and w.timeline), None)
        if window is None or window.timeline is None or not window.timeline.t_s:
            continue
        timeline = window.timeline
        found.append(
            TimelineData(
                title=run_label(record),
                window=window.name,
                t_s=tuple(timeline.t_s),
                power_w={d: tuple(v) for d, v in timeline.power_w.items()},
                provenance={d: str(window.provenance.get(d, ESTIMATED)) for d in timeline.power_w},
                energy_j=window.total_energy_j,
                duration_s=window.duration_s,
                provenance_total=str(window.overall_provenance()),
            )
        )
        if len(found) == MAX_TIMELINES:
            break
    return found
