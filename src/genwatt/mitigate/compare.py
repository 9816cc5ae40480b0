"""Run strategies against the unmitigated baseline on the same prompts and seeds.

For every (prompt, seed) case the baseline runs once; every strategy then runs the same
case. Per strategy the comparison keeps:

* **work**: denoising FLOPs actually executed (``count_denoising``) and their ratio to
  the baseline's; this is the figure to trust on small models, where Python overhead
  of a hook is comparable with the compute it saves;
* **time and energy**: one meter window per generation, with the meter's provenance
  (``estimated`` on a machine with no energy counter). The FLOP counter is on while
  timing, for every strategy alike, so times include its overhead;
* **quality**: PSNR (each capped at ``PSNR_CAP_DB`` before averaging) and SSIM of the
  output against the baseline output of the same case, and, when the prompt is a
  reference-model caption, the automatic prompt-adherence check.

A strategy that raises is recorded with its error and the comparison goes on.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from genwatt.errors import ConfigError
from genwatt.meter.aggregate import combine
from genwatt.meter.result import Provenance, WindowResult
from genwatt.mitigate.adherence import check_adherence, score
from genwatt.mitigate.quality import PSNR_CAP_DB, psnr_db, ssim
from genwatt.mitigate.strategy import Kind, Strategy
from genwatt.mitigate.synthetic import Caption
from genwatt.mitigate.work import count_denoising

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

    from genwatt.meter.meter import Meter

#: A case counts as visually faithful to the baseline from this PSNR on.
GOOD_PSNR_DB = 30.0


@dataclass(frozen=True)
class Case:
    """One prompt and seed; ``caption`` when the prompt is a reference-model caption."""

    prompt: str
    seed: int
    caption: Caption | None = None


@dataclass
class CaseResult:
    """What one strategy produced on one case."""

    case: Case
    flops: int
    transformer_calls: int
    window: WindowResult
    psnr_db: float | None = None
    ssim: float | None = None
    adherence: dict[str, bool] | None = None
    decision: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.case.prompt,
            "seed": self.case.seed,
            "flops": self.flops,
            "transformer_calls": self.transformer_calls,
            "seconds": self.window.duration_s,
            "energy_j": self.window.total_energy_j,
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
    def energy_ratio(self) -> float | None:
        return self._ratio(self.energy_j, self.baseline.energy_j if self.baseline else 0)

    @property
    def latency_ratio(self) -> float | None:
        return self._ratio(self.seconds, self.baseline.seconds if self.baseline else 0)

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
        from genwatt.mitigate.adherence import AdherenceResult

        checked = [c.adherence for c in self.cases if c.adherence is not None]
        if not checked:
            return None
        return score(AdherenceResult(a["colour"], a["direction"], a["shape"]) for a in checked)

    def as_dict(self, *, with_cases: bool = True) -> dict[str, Any]:
        """The JSON shape ``genwatt mitigate --json`` prints for one strategy."""
        rates = self.adherence_rates()

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
            "seconds": self.seconds,
            "latency_ratio": num(self.latency_ratio),
            "energy_j": self.energy_j if self.cases else None,
            "energy_provenance": str(self.provenance) if self.cases else None,
            "energy_ratio": num(self.energy_ratio),
            "psnr_db": self.psnr_db_mean,
            "psnr_db_min": self.psnr_db_min,
            "share_psnr_at_least_30db": self.share_good_psnr,
            "ssim": self.ssim_mean,
            "adherence": rates["overall_rate"] if rates else None,
            "adherence_rates": rates,
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

    def as_dict(self, *, with_cases: bool = False) -> dict[str, Any]:
        return {
            "model": self.model,
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
    from genwatt.mitigate.reference import MOTION_PX

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
) -> tuple[np.ndarray, CaseResult]:
    with count_denoising(pipe) as work, meter.window(window_name) as window:
        video = strategy.generate(pipe, case.prompt, seed=case.seed, call=call)
    assert window.result is not None
    result = CaseResult(
        case=case,
        flops=work.flops,
        transformer_calls=work.calls,
        window=window.result,
        adherence=_adherence(video, case.caption),
        decision=_decision(strategy),
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
) -> Comparison:
    """Run the baseline and then each strategy on every case; see the module docstring."""
    if not cases:
        raise ConfigError("compare() needs at least one (prompt, seed) case")
    names = [s.name for s in strategies]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"strategy names must be unique; repeated: {', '.join(duplicates)}")
    tick = on_progress or (lambda _label: None)
    started = time.time()
    baseline = StrategyResult("unmitigated", "baseline", "the pipeline as configured")
    reference: list[np.ndarray] = []
    plain = Strategy()
    for i, case in enumerate(cases):
        video, result = _run_case(pipe, plain, case, call, meter, f"unmitigated:{i}")
        result.psnr_db, result.ssim = math.inf, 1.0
        reference.append(video)
        baseline.cases.append(result)
        tick("unmitigated")
    results = [
        _run_strategy(pipe, s, cases, reference, call, meter, calibration, tick) for s in strategies
    ]
    for result in results:
        result.baseline = baseline
    return Comparison(model, dict(call), list(cases), baseline, results, started)


def _run_strategy(
    pipe: DiffusionPipeline,
    strategy: Strategy,
    cases: Sequence[Case],
    reference: Sequence[np.ndarray],
    call: Mapping[str, Any],
    meter: Meter,
    calibration: Sequence[str],
    tick: Callable[[str], None],
) -> StrategyResult:
    result = StrategyResult(strategy.name, strategy.kind, strategy.description)
    try:
        with strategy.applied(pipe, call=call, calibration=calibration):
            for i, case in enumerate(cases):
                video, case_result = _run_case(
                    pipe, strategy, case, call, meter, f"{strategy.name}:{i}"
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
