"""Run a planned sweep under the meter, one committed run at a time.

Crash-safety comes from the store: every finished run (ok or failed) is committed in
its own transaction before the next starts, and ``(sweep, config_key, repeat)`` is
unique, so a sweep killed at any instant, SIGKILL included, resumes exactly where it
stopped. A configuration that raises (out of memory, a shape the model rejects) is
stored as a failed run with its error and the sweep moves on.
"""

from __future__ import annotations

import math
import statistics
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from genwatt.meter.meter import Meter
from genwatt.run.gpu_state import gpu_state
from genwatt.run.plan import PlannedConfig, plan_sweep
from genwatt.run.spec import AdaptiveRepeats, SweepSpec
from genwatt.store.records import RunRecord, RunStatus
from genwatt.store.store import ResultsStore

SWEEP_KIND = "sweep"


@dataclass
class SweepOutcome:
    sweep: str
    planned_runs: int
    ran: int = 0
    skipped: int = 0
    failed: int = 0
    run_ids: list[int] = field(default_factory=list)


def ci95_halfwidth_pct(values: list[float]) -> float:
    """95 % confidence half-width of the mean, as a percentage of the mean (Student t)."""
    from scipy import stats

    if len(values) < 2:
        return math.inf
    mean = statistics.fmean(values)
    if mean <= 0:
        return math.inf
    sem = statistics.stdev(values) / math.sqrt(len(values))
    return 100.0 * stats.t.ppf(0.975, len(values) - 1) * sem / mean


def needs_another_repeat(energies_j: list[float], done: int, spec: SweepSpec) -> bool:
    adaptive: AdaptiveRepeats | None = spec.adaptive
    if adaptive is None:
        return done < spec.repeats
    if done < adaptive.min_repeats:
        return True
    if done >= adaptive.max_repeats:
        return False
    return ci95_halfwidth_pct(energies_j) > adaptive.target_ci_pct


class SweepProgress(Protocol):
    """Where the runner reports progress (a rich bar in the CLI)."""

    def start(self, total: int, done: int) -> None: ...

    def advance(self, label: str, ok: bool) -> None: ...


class SweepRunner:
    """Runs ``spec`` into ``store`` under the sweep id ``sweep``; resumes by default."""

    def __init__(
        self,
        spec: SweepSpec,
        store: ResultsStore,
        *,
        sweep: str,
        base: Path | None = None,
        meter: Meter | None = None,
        progress: SweepProgress | None = None,
    ) -> None:
        self.spec = spec
        self.store = store
        self.sweep = sweep
        self.plan = plan_sweep(spec, base)  # validates everything before anything runs
        self.meter = meter
        self.progress = progress

    def planned_runs(self) -> int:
        return len(self.plan) * self.spec.runs_per_config

    def run(self) -> SweepOutcome:
        from genwatt.run.workload import build_workload

        outcome = SweepOutcome(self.sweep, self.planned_runs())
        done = self.store.completed(self.sweep)
        todo = [c for c in self.plan if self._wants_more(c, done)]
        outcome.skipped = sum(1 for c in self.plan for k, _ in done if k == c.key)
        if self.progress:
            remaining = sum(self._remaining(c, done) for c in todo)
            self.progress.start(total=outcome.skipped + remaining, done=outcome.skipped)
        if not todo:
            return outcome
        meter = self.meter or Meter(timeline=self.spec.timeline)
        workload = build_workload(self.spec, todo[0], meter)
        for config in todo:
            for _ in range(self.spec.warmup):
                workload.warm_up(config)
            repeat = 0
            while True:
                energies = self._energies(config.key)
                taken = {r for k, r in done if k == config.key}
                if not needs_another_repeat(energies, len(taken), self.spec):
                    break
                while repeat in taken:
                    repeat += 1
                record = self._run_once(workload, config, repeat)
                run_id = self.store.add(record)
                done.add((config.key, repeat))
                outcome.ran += 1
                outcome.failed += 0 if record.ok else 1
                outcome.run_ids.append(run_id)
                if self.progress:
                    self.progress.advance(config.label(), ok=record.ok)
                if self.spec.cooldown_s:
                    time.sleep(self.spec.cooldown_s)
                if not record.ok and self.spec.adaptive:
                    break  # a failing config would fail again: do not loop on it
        return outcome

    def _wants_more(self, config: PlannedConfig, done: set[tuple[str, int]]) -> bool:
        taken = sum(1 for k, _ in done if k == config.key)
        return needs_another_repeat(self._energies(config.key), taken, self.spec)

    def _remaining(self, config: PlannedConfig, done: set[tuple[str, int]]) -> int:
        return max(0, self.spec.runs_per_config - sum(1 for k, _ in done if k == config.key))

    def _energies(self, key: str) -> list[float]:
        if self.spec.adaptive is None:
            return []
        runs = self.store.runs(sweep=self.sweep, status=RunStatus.OK)
        return [r.total_energy_j for r in runs if r.config_key == key]

    def _run_once(self, workload: Any, config: PlannedConfig, repeat: int) -> RunRecord:
        before = gpu_state()
        started = time.time()
        try:
            generation = workload.generate(config)
        except Exception as exc:  # recorded, not raised: the sweep goes on
            workload.recover()
            return RunRecord(
                kind=SWEEP_KIND,
                status=RunStatus.FAILED,
                started_at=started,
                duration_s=time.time() - started,
                config=config.as_config(),
                error=f"{type(exc).__name__}: {exc}",
                sweep=self.sweep,
                config_key=config.key,
                repeat=repeat,
                extra={"traceback": traceback.format_exc(limit=8), "gpu_before": before},
            )
        parts = generation.breakdown
        return RunRecord(
            kind=SWEEP_KIND,
            status=RunStatus.OK,
            started_at=parts.total.started_at,
            duration_s=parts.total.duration_s,
            config=config.as_config(),
            windows=generation.windows,
            sweep=self.sweep,
            config_key=config.key,
            repeat=repeat,
            extra={
                "phases_j": {name: w.total_energy_j for name, w in parts.phases.items()},
                "other_j": parts.other.total_energy_j,
                "phases_add_up": parts.adds_up,
                "steps_executed": len(parts.steps),
                "step_boundaries": generation.step_boundaries,
                "weights_note": workload.weights_note,
                "torch_threads": workload.torch_threads,
                "gpu_before": before,
                "gpu_after": gpu_state(),
            },
        )
