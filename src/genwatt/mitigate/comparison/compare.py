"""Run strategies against the unmitigated baseline on the same prompts and seeds.

For every (prompt, seed) case the baseline runs once; every strategy then runs the same
case. Per strategy the comparison keeps:

* **work**: denoising FLOPs actually executed (``count_denoising``) and their ratio to
  the baseline's; this is the figure to trust on small models, where Python overhead
  of a hook is comparable with the compute it saves;
* **time and energy**: one meter window per case, with the meter's provenance
  (``estimated`` on a machine with no energy counter). By default
  (``timing="separate"``) the window holds a second run of the case, without the FLOP
  counter, so it measures what a user would pay and not the counter; strategies that
  cannot run a case twice (reuse caches, ``Strategy.repeatable``) and
  ``timing="instrumented"`` keep the one counted run, overhead included
  (``COUNTED_RUN``). Every result says which (``timing``), and a timed run whose output
  differs from the counted run's is flagged (``timed_output_matches``); see ``timing``.
  Ratios compare like with like: when some strategy can only be timed in its counted
  run, the baseline's counted runs are metered too, and that strategy's ratios are
  taken against them (``ratio_baseline_timing``);
* **quality**: PSNR (each capped at ``PSNR_CAP_DB`` before averaging) and SSIM of the
  output against the baseline output of the same case, and, when the prompt is a
  reference-model caption, the automatic prompt-adherence check, reported part by part
  (colour, direction, shape) beside the share of clips that show all three.

A strategy that saves less than ``MIN_WORK_SAVED`` of the baseline's denoising FLOPs
(exact reuse on prompts that never repeat) is no trade-off at all: ``saves_work`` is
False and reports say "no saving on this prompt set" rather than place it on a frontier.
Diffusers' own notices and progress bars are silenced while the comparison runs
(``quiet``).

A strategy that raises is recorded with its error and the comparison goes on.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from genwatt.errors import ConfigError
from genwatt.meter.aggregate import combine
from genwatt.meter.result import Provenance, WindowResult
from genwatt.mitigate.comparison.conventions import (
    COUNTED_RUN,
    GOOD_PSNR_DB,
    MIN_WORK_SAVED,
    PSNR_CAP_DB,
    REFERENCE_NAME,
    SEPARATE_PASS,
)
from genwatt.mitigate.comparison.quality import psnr_db, ssim
from genwatt.mitigate.comparison.quiet import quiet_diffusers
from genwatt.mitigate.comparison.timing import (
    SAME_OUTPUT_ATOL,
    Timing,
    max_abs_diff,
    validated_timing,
)
from genwatt.mitigate.comparison.work import count_denoising
from genwatt.mitigate.strategy import Kind, Strategy
from genwatt.models.reference.adherence import AdherenceResult, check_adherence, score
from genwatt.models.reference.architecture import MOTION_PX
from genwatt.models.reference.captions import Caption

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

    from genwatt.meter.meter import Meter


@dataclass(frozen=True)
class Case:
    """One prompt and seed; ``caption`` when the prompt is a reference-model caption."""

    prompt: str
    seed: int
    caption: Caption | None = None


@dataclass
class CaseResult:
    """What one strategy produced on one case.

    ``window`` is the timed run's; ``timing`` says which run that was (``SEPARATE_PASS``
    or ``COUNTED_RUN``) and ``timed_output_diff`` how far the separately timed
    output lay from the counted one (``None`` when one run did both).
    ``counted_window`` is the counted run's own window where one was kept beside a
    separate pass (the baseline's), so that strategies which could only be timed in their
    counted run have a baseline figure taken the same way.
    """

    case: Case
    flops: int
    transformer_calls: int
    window: WindowResult
    psnr_db: float | None = None
    ssim: float | None = None
    adherence: dict[str, bool] | None = None
    decision: dict[str, Any] | None = None
    timing: str = COUNTED_RUN
    timed_output_diff: float | None = None
    counted_window: WindowResult | None = None

    @property
    def timed_output_matches(self) -> bool | None:
        """Whether the timed run made the counted run's output; ``None`` if one run did both."""
        if self.timed_output_diff is None:
            return None
        return self.timed_output_diff <= SAME_OUTPUT_ATOL

    def as_dict(self) -> dict[str, Any]:
        diff = self.timed_output_diff
        return {
            "prompt": self.case.prompt,
            "seed": self.case.seed,
            "flops": self.flops,
            "transformer_calls": self.transformer_calls,
            "seconds": self.window.duration_s,
            "energy_j": self.window.total_energy_j,
            "timing": self.timing,
            "timed_output_matches": self.timed_output_matches,
            "timed_output_max_abs_diff": diff if diff is None or math.isfinite(diff) else None,
            "psnr_db": _finite(self.psnr_db),
            "ssim": self.ssim,
            "adherence": self.adherence,
            "decision": self.decision,
        }


def _finite(value: float | None) -> float | None:
    """JSON has no infinity: identical outputs are reported at the cap."""
    if value is None:
        return None
    return min(value, PSNR_CAP_DB)


@dataclass
class StrategyResult:
    """A strategy's totals over all cases, and its ratios to the baseline."""

    name: str
    kind: Kind
    description: str
    cases: list[CaseResult] = field(default_factory=list)
    error: str | None = None
    baseline: StrategyResult | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.cases)

    @property
    def flops(self) -> int:
        return sum(c.flops for c in self.cases)

    @property
    def seconds(self) -> float:
        return sum(c.window.duration_s for c in self.cases)

    @property
    def window(self) -> WindowResult:
        return combine(self.name, (c.window for c in self.cases))

    @property
    def energy_j(self) -> float:
        return self.window.total_energy_j

    @property
    def provenance(self) -> Provenance:
        return self.window.overall_provenance()

    @property
    def timing(self) -> str | None:
        """How the seconds and joules were taken (see ``CaseResult``); ``None`` if none ran."""
        labels = sorted({c.timing for c in self.cases})
        return " + ".join(labels) if labels else None

    def _baseline_timed(self) -> tuple[WindowResult, str | None] | None:
        """The baseline's windows taken the way this strategy's were, summed, and how.

        A strategy timed in its counted run (not repeatable) set against a baseline timed
        without the counter would be charged the counter's overhead on top of its own.
        """
        base = self.baseline
        if base is None or not base.cases:
            return None
        if self.timing == COUNTED_RUN and base.timing == SEPARATE_PASS:
            kept = [c.counted_window for c in base.cases]
            if all(w is not None for w in kept):
                return combine(base.name, (w for w in kept if w is not None)), COUNTED_RUN
        return base.window, base.timing

    @property
    def ratio_baseline_timing(self) -> str | None:
        """How the baseline figures that this strategy's ratios divide were taken."""
        timed = self._baseline_timed() if self.ok else None
        return timed[1] if timed else None

    @property
    def timed_output_matches(self) -> bool | None:
        """False if any separately timed case made another output than its counted run."""
        checked = [c.timed_output_matches for c in self.cases if c.timed_output_diff is not None]
        return all(checked) if checked else None

    def _ratio(self, mine: float, theirs: float) -> float | None:
        if not self.ok or self.baseline is None:
            return None
        if mine <= 0:
            return math.inf if theirs > 0 else None
        return theirs / mine

    @property
    def flops_ratio(self) -> float | None:
        """Baseline FLOPs / this strategy's: 2.0 means half the denoising work."""
        return self._ratio(self.flops, self.baseline.flops if self.baseline else 0)

    @property
    def saves_work(self) -> bool | None:
        """Whether it saved at least ``MIN_WORK_SAVED`` of the baseline's denoising FLOPs.

        ``None`` when unknown (failed, or a baseline that ran no FLOPs). A strategy that
        saved nothing is no point of a work/quality trade-off, whatever its quality.
        """
        ratio = self.flops_ratio
        if ratio is None:
            return None
        return ratio >= 1.0 / (1.0 - MIN_WORK_SAVED)

    @property
    def energy_ratio(self) -> float | None:
        timed = self._baseline_timed()
        return self._ratio(self.energy_j, timed[0].total_energy_j if timed else 0)

    @property
    def latency_ratio(self) -> float | None:
        timed = self._baseline_timed()
        return self._ratio(self.seconds, timed[0].duration_s if timed else 0)

    def _psnrs(self) -> list[float]:
        return [min(c.psnr_db, PSNR_CAP_DB) for c in self.cases if c.psnr_db is not None]

    @property
    def psnr_db_mean(self) -> float | None:
        values = self._psnrs()
        return float(np.mean(values)) if values else None

    @property
    def psnr_db_min(self) -> float | None:
        values = self._psnrs()
        return float(min(values)) if values else None

    @property
    def share_good_psnr(self) -> float | None:
        values = self._psnrs()
        return sum(v >= GOOD_PSNR_DB for v in values) / len(values) if values else None

    @property
    def ssim_mean(self) -> float | None:
        values = [c.ssim for c in self.cases if c.ssim is not None]
        return float(np.mean(values)) if values else None

    def adherence_rates(self) -> dict[str, float] | None:
        """``adherence.score`` over the checked cases; None when no prompt was checkable."""
        checked = [c.adherence for c in self.cases if c.adherence is not None]
        if not checked:
            return None
        return score(AdherenceResult(a["colour"], a["direction"], a["shape"]) for a in checked)

    def adherence_parts(self) -> dict[str, float | int] | None:
        """Shares of checked clips showing the caption's colour, direction and shape.

        Each part on its own, and ``all_three``: the share of clips where all three hold
        at once, the strictest reading (at most the lowest part). It is kept beside the
        parts, never alone, since one weak criterion (shape on a 32-pixel clip) would
        otherwise hide two strong ones. ``clips`` is how many clips were checked.
        """
        rates = self.adherence_rates()
        if rates is None:
            return None
        return {
            "colour": rates["colour_rate"],
            "direction": rates["direction_rate"],
            "shape": rates["shape_rate"],
            "all_three": rates["overall_rate"],
            "clips": int(rates["n_videos"]),
        }

    def as_dict(self, *, with_cases: bool = True) -> dict[str, Any]:
        """The JSON shape ``genwatt mitigate --json`` prints for one strategy."""

        def num(value: float | None) -> float | None:
            return None if value is None or not math.isfinite(value) else value

        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "ok": self.ok,
            "error": self.error,
            "flops": self.flops,
            "flops_ratio": num(self.flops_ratio),
            "saves_work": self.saves_work,
            "seconds": self.seconds,
            "latency_ratio": num(self.latency_ratio),
            "energy_j": self.energy_j if self.cases else None,
            "energy_provenance": str(self.provenance) if self.cases else None,
            "energy_ratio": num(self.energy_ratio),
            "timing": self.timing,
            "ratio_baseline_timing": self.ratio_baseline_timing,
            "timed_output_matches": self.timed_output_matches,
            "psnr_db": self.psnr_db_mean,
            "psnr_db_min": self.psnr_db_min,
            "share_psnr_at_least_30db": self.share_good_psnr,
            "ssim": self.ssim_mean,
            "adherence": self.adherence_parts(),
        }
        if with_cases:
            out["cases"] = [c.as_dict() for c in self.cases]
        return out


@dataclass
class Comparison:
    """The baseline and every strategy, on the same cases and call."""

    model: str
    call: dict[str, Any]
    cases: list[Case]
    baseline: StrategyResult
    strategies: list[StrategyResult]
    started_at: float
    timing: Timing = "separate"

    def as_dict(self, *, with_cases: bool = False) -> dict[str, Any]:
        return {
            "model": self.model,
            "timing_mode": self.timing,
            "timed_output_atol": SAME_OUTPUT_ATOL,
            "call": self.call,
            "n_cases": len(self.cases),
            "prompts": sorted({c.prompt for c in self.cases}),
            "seeds": sorted({c.seed for c in self.cases}),
            "work_measure": "denoising FLOPs executed (torch FLOP formulas, counted as run)",
            "psnr_cap_db": PSNR_CAP_DB,
            "baseline": self.baseline.as_dict(with_cases=with_cases),
            "strategies": [s.as_dict(with_cases=with_cases) for s in self.strategies],
        }


def _adherence(video: np.ndarray, caption: Caption | None) -> dict[str, bool] | None:
    if caption is None:
        return None
    result = check_adherence(video, caption, step_px=MOTION_PX)
    return {"colour": result.colour_ok, "direction": result.direction_ok, "shape": result.shape_ok}


def _decision(strategy: Strategy) -> dict[str, Any] | None:
    decision = getattr(strategy, "last_decision", None)
    if decision is None:
        return None
    if dataclasses.is_dataclass(decision) and not isinstance(decision, type):
        return dataclasses.asdict(decision)
    return dict(decision) if isinstance(decision, Mapping) else {"decision": str(decision)}


def _run_case(
    pipe: DiffusionPipeline,
    strategy: Strategy,
    case: Case,
    call: Mapping[str, Any],
    meter: Meter,
    window_name: str,
    timing: Timing,
    *,
    keep_counted_window: bool = False,
) -> tuple[np.ndarray, CaseResult]:
    """Count the case, and time it apart when ``timing`` and the strategy allow it.

    The output, FLOPs, calls and decision always come from the counted run: that is the
    generation judged for quality. With a separate pass, the counted run is metered only
    if ``keep_counted_window`` (the baseline's, for strategies timed in their counted run).
    """

    def generate() -> np.ndarray:
        return strategy.generate(pipe, case.prompt, seed=case.seed, call=call)

    diff = counted_window = None
    if timing == "separate" and strategy.repeatable:
        metered = meter.window(f"{window_name}:counted") if keep_counted_window else nullcontext()
        with count_denoising(pipe) as work, metered as counted:
            video = generate()
        counted_window = counted.result if counted is not None else None
        decision = _decision(strategy)
        with meter.window(window_name) as window:
            timed = generate()
        label, diff = SEPARATE_PASS, max_abs_diff(video, timed)
    else:
        with count_denoising(pipe) as work, meter.window(window_name) as window:
            video = generate()
        label, decision = COUNTED_RUN, _decision(strategy)
    assert window.result is not None
    result = CaseResult(
        case=case,
        flops=work.flops,
        transformer_calls=work.calls,
        window=window.result,
        adherence=_adherence(video, case.caption),
        decision=decision,
        timing=label,
        timed_output_diff=diff,
        counted_window=counted_window,
    )
    return video, result


def compare(
    pipe: DiffusionPipeline,
    strategies: Sequence[Strategy],
    cases: Sequence[Case],
    *,
    call: Mapping[str, Any],
    meter: Meter,
    model: str,
    calibration: Sequence[str] = (),
    on_progress: Callable[[str], None] | None = None,
    timing: str = "separate",
) -> Comparison:
    """Run the baseline and then each strategy on every case; see the module docstring.

    ``timing`` is ``"separate"`` (time each case in a run without the FLOP counter) or
    ``"instrumented"`` (time the counted run; half the work, counter overhead included;
    the name the command line has always used for it).
    """
    mode = validated_timing(timing)
    if not cases:
        raise ConfigError("compare() needs at least one (prompt, seed) case")
    names = [s.name for s in strategies]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"strategy names must be unique; repeated: {', '.join(duplicates)}")
    tick = on_progress or (lambda _label: None)
    started = time.time()
    baseline = StrategyResult(REFERENCE_NAME, "baseline", "the pipeline as configured")
    reference: list[np.ndarray] = []
    plain = Strategy()
    # Only strategies timed in their counted run need the baseline's counted run metered.
    keep = not all(s.repeatable for s in strategies)
    with quiet_diffusers():
        for i, case in enumerate(cases):
            video, result = _run_case(
                pipe,
                plain,
                case,
                call,
                meter,
                f"{REFERENCE_NAME}:{i}",
                mode,
                keep_counted_window=keep,
            )
            result.psnr_db, result.ssim = math.inf, 1.0
            reference.append(video)
            baseline.cases.append(result)
            tick(REFERENCE_NAME)
        results = [
            _run_strategy(pipe, s, cases, reference, call, meter, calibration, tick, mode)
            for s in strategies
        ]
    for result in results:
        result.baseline = baseline
    return Comparison(model, dict(call), list(cases), baseline, results, started, mode)


def _run_strategy(
    pipe: DiffusionPipeline,
    strategy: Strategy,
    cases: Sequence[Case],
    reference: Sequence[np.ndarray],
    call: Mapping[str, Any],
    meter: Meter,
    calibration: Sequence[str],
    tick: Callable[[str], None],
    timing: Timing,
) -> StrategyResult:
    result = StrategyResult(strategy.name, strategy.kind, strategy.description)
    try:
        with strategy.applied(pipe, call=call, calibration=calibration):
            for i, case in enumerate(cases):
                video, case_result = _run_case(
                    pipe, strategy, case, call, meter, f"{strategy.name}:{i}", timing
                )
                case_result.psnr_db = psnr_db(video, reference[i])
                case_result.ssim = ssim(video, reference[i])
                result.cases.append(case_result)
                tick(strategy.name)
    except (ConfigError, RuntimeError, ValueError, TypeError) as exc:
        # Recorded, not raised: one strategy that does not fit this model must not
        # cost the user the others' results.
        result.error = f"{type(exc).__name__}: {exc}"
        result.cases.clear()
    return result


def caption_cases(captions: Iterable[Caption], seeds: Iterable[int]) -> list[Case]:
    """Every caption with every seed, in a stable order."""
    seeds = list(seeds)
    return [Case(c.text(), s, c) for c in captions for s in seeds]
