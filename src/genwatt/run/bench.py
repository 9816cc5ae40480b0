"""The main job: a sweep over frames x resolution x steps, stored, summarised, fitted.

``bench_spec`` builds the default sweep for a model: for the built-in tiny WAN model a
grid that runs in well under a minute on two CPU cores; for a real model, points around
its authors' defaults (a quarter, half and all of its frames, each a count its
pipeline accepts as it is, its resolution and a smaller one, half and all of its
steps), which takes minutes per point on a GPU.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genwatt.analysis.scaling import ScalingFit, fit_power_law
from genwatt.analysis.summary import ConfigSummary, summarize_runs
from genwatt.carbon.setting import CarbonSetting
from genwatt.models.spec import FrameRule
from genwatt.run.runner import SweepOutcome, SweepProgress, SweepRunner
from genwatt.run.spec import Grid, SweepSpec
from genwatt.run.workload import WEIGHTS_NOTES
from genwatt.store.store import ResultsStore

DEFAULT_BENCH_MODEL = "wan-tiny"
# The tiny grid: 3 frame counts x 4 sizes x 2 step counts = 24 configurations. On a
# CPU a new tensor shape pays one-off costs (kernel selection, allocations) on its first
# call, and a shared machine adds noise: one warm-up and three repeats per configuration
# keep the fitted exponents' intervals narrow while the sweep stays under a minute.
TINY_GRID = Grid(num_frames=[5, 9, 17], height=[32, 64], width=[32, 64], steps=[2, 4])
TINY_DEFAULTS = {"warmup": 1, "repeats": 3}
REAL_DEFAULTS = {"warmup": 1, "repeats": 1}


@dataclass
class SweepReport:
    sweep: str
    store: Path
    spec: SweepSpec
    outcome: SweepOutcome
    summaries: list[ConfigSummary]
    energy_fit: ScalingFit
    phase_fit: ScalingFit  # the iterative phase: denoise (diffusion) or decode (text)
    latency_fit: ScalingFit
    weights_note: str
    carbon: CarbonSetting  # stored with every run of this sweep
    missing_counters: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sweep": self.sweep,
            "store": str(self.store),
            "model": self.spec.model,
            "weights": self.spec.weights,
            "device": self.spec.device,
            "weights_note": self.weights_note,
            "ran": self.outcome.ran,
            "skipped": self.outcome.skipped,
            "failed": self.outcome.failed,
            "retryable": self.outcome.retryable,
            "carbon": self.carbon.to_dict(),
            "configs": [s.to_dict() for s in self.summaries],
            "scaling": {
                "energy": self.energy_fit.to_dict(),
                f"{self.phase_fit.response.removesuffix('_j')}_energy": self.phase_fit.to_dict(),
                "latency": self.latency_fit.to_dict(),
            },
            "missing_counters": self.missing_counters,
        }


def default_grid(model_name: str) -> Grid:
    from genwatt.models import get_model

    model = get_model(model_name)
    if model.is_tiny and model.family == "wan":
        return TINY_GRID
    d = model.defaults
    grid: dict[str, list[int]] = {}
    if model.task == "text":
        tokens_in, tokens_out = d.max_text_tokens, d.max_new_tokens or 16
        if model.is_tiny:
            return Grid(max_text_tokens=[16, 32, 64], max_new_tokens=[8, 16, 32])
        return Grid(
            max_text_tokens=sorted({max(8, tokens_in // 4), tokens_in}),
            max_new_tokens=sorted({max(8, tokens_out // 4), tokens_out}),
        )
    if d.num_frames:
        grid["num_frames"] = _frame_levels(d.num_frames, model.frame_rule)
    if d.height and d.width:
        multiple = model.size_rule.multiple_px if model.size_rule else 16
        grid["height"] = sorted({_round_to(d.height // 2, multiple), d.height})
        grid["width"] = sorted({_round_to(d.width // 2, multiple), d.width})
    if d.steps:
        grid["steps"] = sorted({max(1, d.steps // 2), d.steps})
    return Grid(**grid)


def _frame_levels(most: int, rule: FrameRule | None) -> list[int]:
    """A quarter, half and all of ``most`` frames, each moved to the nearest count the
    pipeline makes exactly as asked (4k+1 for WAN's 4x temporal compression), so the
    default grid never triggers its own "rounds it to" warning."""
    targets = {max(2, most // 4), max(2, most // 2), most}
    accepted = _accepted_frames(most, rule)
    if not accepted:
        return sorted(targets)
    return sorted({min(accepted, key=lambda n: (abs(n - t), n)) for t in targets})


def _accepted_frames(most: int, rule: FrameRule | None) -> list[int]:
    """Frame counts from 2 to ``most`` that the rule produces from some latent length:
    requested as they are, they run as they are."""
    if rule is None:
        return list(range(2, most + 1))
    cap = min(most, rule.max_frames or most)
    produced = {rule.frames_from_latent(latent) for latent in range(1, most + 1)}
    return sorted(n for n in produced if 2 <= n <= cap)


def _is_text(spec: SweepSpec) -> bool:
    from genwatt.models import get_model

    return get_model(spec.model).task == "text"


def _round_to(value: int, multiple: int) -> int:
    return max(multiple, round(value / multiple) * multiple)


def bench_spec(model: str = DEFAULT_BENCH_MODEL, **overrides: Any) -> SweepSpec:
    """The default benchmark sweep for ``model``; keyword arguments override spec fields."""
    grid_axes = {k: overrides.pop(k) for k in list(overrides) if k in Grid.model_fields}
    grid = default_grid(model).model_dump()
    grid.update({k: v for k, v in grid_axes.items() if v is not None})
    from genwatt.models import get_model

    defaults = TINY_DEFAULTS if get_model(model).is_tiny else REAL_DEFAULTS
    fields = {**defaults, **{k: v for k, v in overrides.items() if v is not None}}
    if get_model(model).task != "text":
        fields.setdefault("guidance", 5.0)
    return SweepSpec(model=model, grid=Grid(**grid), **fields)


def run_sweep(
    spec: SweepSpec,
    *,
    store: Path | None = None,
    sweep: str | None = None,
    base: Path | None = None,
    progress: SweepProgress | None = None,
    carbon: CarbonSetting | None = None,
) -> SweepReport:
    """Run (or resume) ``spec`` into the store and summarise every configuration.

    ``carbon`` is stored with every run (default: ``$GENWATT_COUNTRY`` or the world)."""
    from genwatt.meter.meter import Meter

    sweep_id = sweep or spec.name or f"{spec.model}-{spec.fingerprint()}"
    with ResultsStore(store) as results:
        meter = Meter(timeline=spec.timeline)
        try:
            runner = SweepRunner(
                spec,
                results,
                sweep=sweep_id,
                base=base,
                meter=meter,
                progress=progress,
                carbon=carbon,
            )
            outcome = runner.run()
        finally:
            meter.close()
        records = results.runs(sweep=sweep_id)
        path = results.path
    summaries = summarize_runs(records)
    rows = [s.scaling_row() for s in summaries if s.runs]
    weights = runner.plan[0].weights if runner.plan else (spec.weights or "pretrained")
    return SweepReport(
        sweep=sweep_id,
        store=path,
        spec=spec,
        outcome=outcome,
        summaries=summaries,
        energy_fit=fit_power_law(rows, "energy_j"),
        phase_fit=fit_power_law(rows, "decode_j" if _is_text(spec) else "denoise_j"),
        latency_fit=fit_power_law(rows, "latency_s"),
        weights_note=WEIGHTS_NOTES[weights],
        carbon=runner.carbon,
        missing_counters=[m.to_dict() for m in meter.missing],
    )


def new_bench_sweep_id(model: str) -> str:
    """Each ``genwatt bench`` is a fresh measurement: its own sweep id."""
    return f"bench-{model}-{time.strftime('%Y%m%d-%H%M%S')}"
