"""Save a comparison into the results store, one run per strategy, and read it back.

Why the results store: ``genwatt report`` draws its figures from there (the quality
against energy Pareto figure among them), and a comparison kept beside the sweeps can be
exported like any other run. Each strategy becomes a ``RunRecord`` of kind
``mitigation`` whose window ``run`` holds the energy summed over all its cases, whose
``config`` says what was compared, and whose ``extra`` holds the JSON figures.
"""

from __future__ import annotations

from typing import Any

from genwatt.mitigate.comparison.compare import Comparison, StrategyResult
from genwatt.mitigate.comparison.conventions import RUN_KIND, timing_label
from genwatt.store.records import RunRecord, RunStatus
from genwatt.store.store import ResultsStore


def _record(comparison: Comparison, result: StrategyResult, sweep: str) -> RunRecord:
    summary = result.as_dict(with_cases=True)
    window = result.window if result.cases else None
    if window is not None:
        window = type(window)(**{**window.__dict__, "name": "run"})
    return RunRecord(
        kind=RUN_KIND,
        status=RunStatus.OK if result.ok else RunStatus.FAILED,
        started_at=comparison.started_at,
        duration_s=result.seconds,
        config={
            "model": comparison.model,
            "strategy": result.name,
            "strategy_kind": result.kind,
            "n_cases": len(comparison.cases),
            **{f"call_{k}": v for k, v in comparison.call.items()},
        },
        windows=[window] if window is not None else [],
        error=result.error,
        sweep=sweep,
        config_key=result.name,
        extra={"mitigation": summary},
    )


def save_comparison(comparison: Comparison, store: ResultsStore, sweep: str) -> list[int]:
    """Add the baseline and every strategy as runs of ``sweep``; returns their ids."""
    results = [comparison.baseline, *comparison.strategies]
    return [store.add(_record(comparison, r, sweep)) for r in results]


def load_mitigation_runs(store: ResultsStore, sweep: str | None = None) -> list[dict[str, Any]]:
    """The stored strategy summaries (newest comparison first), each with its sweep id;
    timing labels of earlier versions read as today's (``conventions.timing_label``)."""
    rows = []
    for run in store.runs(kind=RUN_KIND, sweep=sweep):
        summary = dict(run.extra.get("mitigation", {}))
        for key in ("timing", "ratio_baseline_timing"):
            if isinstance(summary.get(key), str):
                summary[key] = timing_label(summary[key])
        summary["sweep"] = run.sweep
        summary["model"] = run.config.get("model")
        rows.append(summary)
    return rows
