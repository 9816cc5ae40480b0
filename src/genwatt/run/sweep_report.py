"""Run a sweep into the store, then summarise it: what ran, per configuration, fitted.

Shared by ``genwatt bench`` and ``genwatt sweep`` (and callable from Python): the
runner (``genwatt.run.runner``) stores one run at a time; this module reads the sweep's
runs back, summarises every configuration and fits how energy and latency scale, so
a report describes what the store holds, resumed runs included. It imports numpy (the
fits), so the command line imports it only when a sweep runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genwatt.analysis.scaling import ScalingFit, fit_power_law
from genwatt.analysis.summary import ConfigSummary, summarize_runs
from genwatt.carbon.setting import CarbonSetting
from genwatt.meter.meter import Meter
from genwatt.models import get_model
from genwatt.run.executor import Executor
from genwatt.run.runner import SweepOutcome, SweepProgress, SweepRunner
from genwatt.run.sweep_spec import SweepSpec
from genwatt.run.workload import WEIGHTS_NOTES
from genwatt.store.store import ResultsStore


@dataclass
class SweepReport:
    """One sweep's outcome: what ran, each configuration summarised, the scaling fits."""

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
            "placement": self.outcome.placement.to_dict() if self.outcome.placement else None,
            "carbon": self.carbon.to_dict(),
            "configs": [s.to_dict() for s in self.summaries],
            "scaling": {
                "energy": self.energy_fit.to_dict(),
                f"{self.phase_fit.response.removesuffix('_j')}_energy": self.phase_fit.to_dict(),
                "latency": self.latency_fit.to_dict(),
            },
            "missing_counters": self.missing_counters,
        }


def run_sweep(
    spec: SweepSpec,
    *,
    store: Path | None = None,
    sweep: str | None = None,
    base: Path | None = None,
    progress: SweepProgress | None = None,
    carbon: CarbonSetting | None = None,
    executor: Executor | None = None,
) -> SweepReport:
    """Run (or resume) ``spec`` into the store and summarise every configuration.

    ``carbon`` is stored with every run (default: ``$GENWATT_COUNTRY`` or the world)."""
    sweep_id = sweep or spec.name or f"{spec.model}-{spec.fingerprint()}"
    with ResultsStore(store) as results:
        # With an executor, each worker meters its own runs: this process measures nothing.
        meter = Meter(timeline=spec.timeline) if executor is None else None
        try:
            runner = SweepRunner(
                spec,
                results,
                sweep=sweep_id,
                base=base,
                meter=meter,
                progress=progress,
                carbon=carbon,
                executor=executor,
            )
            outcome = runner.run()
        finally:
            if meter is not None:
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
        # Each worker's meter is its own; their runs' windows say what each measured.
        missing_counters=[m.to_dict() for m in meter.missing] if meter is not None else [],
    )


def _is_text(spec: SweepSpec) -> bool:
    return get_model(spec.model).task == "text"
