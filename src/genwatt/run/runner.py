"""Run a planned sweep under the meter, one committed run at a time.

Crash-safety comes from the store: every finished run (ok or failed) is committed in
its own transaction before the next starts, and ``(sweep, config_key, repeat)`` is
unique, so a sweep killed at any instant, SIGKILL included, resumes exactly where it
stopped. A configuration that raises (out of memory, a shape the model rejects) is
stored as a failed run with its error and the sweep moves on; a failure that is not
the configuration's own (genwatt's meter or store) is stored as retryable, so that a
resume runs it again. Ctrl-C is none of these: it stops the sweep with
``SweepInterrupted`` and stores nothing for the run it cut short. Whatever happened,
the workload's instrumentation is reset after every run, so no window of one run can
stay open into the next.
"""

from __future__ import annotations

import math
import statistics
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from genwatt.carbon.setting import RECORD_KEY as CARBON_KEY
from genwatt.carbon.setting import CarbonSetting
from genwatt.errors import ConcurrentSweepError, ConfigError, GenwattError
from genwatt.meter.meter import Meter
from genwatt.run import workload as workloads
from genwatt.run.gpu_state import gpu_state
from genwatt.run.instrument import GenerationRecord
from genwatt.run.plan import PlannedConfig, plan_sweep
from genwatt.run.sweep_spec import AdaptiveRepeats, SweepSpec
from genwatt.store.records import FailureKind, RunRecord, RunStatus
from genwatt.store.store import DuplicateRunError, ResultsStore

SWEEP_KIND = "sweep"


@dataclass
class SweepOutcome:
    """What one ``SweepRunner.run`` did: ``ran`` runs stored now (``failed`` of them
    failed, ``retryable`` of those for reasons a resume retries), ``skipped`` found
    already stored."""

    sweep: str
    planned_runs: int
    ran: int = 0
    skipped: int = 0
    failed: int = 0
    retryable: int = 0
    run_ids: list[int] = field(default_factory=list)


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the sweep; ``outcome`` says what was stored before it.

    Still a ``KeyboardInterrupt``, so code that handles Ctrl-C handles this; the run it
    cut short is not stored, and rerunning the sweep resumes from there.
    """

    def __init__(self, outcome: SweepOutcome, store: Path) -> None:
        super().__init__(f"sweep {outcome.sweep!r} interrupted after {outcome.ran} stored runs")
        self.outcome = outcome
        self.store = store


class Workload(Protocol):
    """A model built once for the sweep (see ``genwatt.run.workload``)."""

    weights_note: str
    torch_threads: int

    def warm_up(self, config: PlannedConfig) -> None: ...

    def generate(self, config: PlannedConfig) -> GenerationRecord: ...

    def recover(self) -> None:
        """After a failed run: free what it held."""

    def reset(self) -> None:
        """After every run, whatever happened: close what the instrumentation left open."""


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
        carbon: CarbonSetting | None = None,
    ) -> None:
        self.spec = spec
        self.store = store
        self.sweep = sweep
        # Stored with every run, so its CO2e reads the same in every later command.
        self.carbon = carbon or CarbonSetting.resolve()
        # Validates everything (the device included) before anything runs.
        self.plan = plan_sweep(spec, base, require_device=True)
        self.meter = meter
        self.progress = progress

    def planned_runs(self) -> int:
        return len(self.plan) * self.spec.runs_per_config

    def run(self) -> SweepOutcome:
        """Run what the store lacks; raises ``SweepInterrupted`` on Ctrl-C."""
        outcome = SweepOutcome(self.sweep, self.planned_runs())
        self.store.check_writable()  # now, not after the first run's minutes of work
        done = self.store.completed(self.sweep)
        todo = [c for c in self.plan if self._wants_more(c, done)]
        outcome.skipped = sum(1 for c in self.plan for k, _ in done if k == c.key)
        if self.progress:
            remaining = sum(self._remaining(c, done) for c in todo)
            self.progress.start(total=outcome.skipped + remaining, done=outcome.skipped)
        if not todo:
            return outcome
        meter = self.meter or Meter(timeline=self.spec.timeline)
        try:
            self._run_all(todo, meter, done, outcome)
        except KeyboardInterrupt as exc:
            raise SweepInterrupted(outcome, self.store.path) from exc
        finally:
            if self.meter is None:
                meter.close()
        return outcome

    def _run_all(
        self,
        todo: list[PlannedConfig],
        meter: Meter,
        done: set[tuple[str, int]],
        outcome: SweepOutcome,
    ) -> None:
        # Looked up on the module when called, so a test can put a fake workload there.
        workload = workloads.build_workload(self.spec, todo[0], meter)
        for config in todo:
            self._run_config(workload, config, done, outcome)

    def _run_config(
        self,
        workload: Workload,
        config: PlannedConfig,
        done: set[tuple[str, int]],
        outcome: SweepOutcome,
    ) -> None:
        warmups, repeat = self.spec.warmup, 0
        while True:
            energies = self._energies(config.key)
            taken = {r for k, r in done if k == config.key}
            if not needs_another_repeat(energies, len(taken), self.spec):
                break
            while repeat in taken:
                repeat += 1
            record = self._run_once(workload, config, repeat, warmups=warmups)
            warmups = 0  # once per configuration, before its first run
            run_id = self._store(record, config)
            done.add((config.key, repeat))
            outcome.ran += 1
            outcome.failed += 0 if record.ok else 1
            outcome.retryable += 1 if record.retryable else 0
            outcome.run_ids.append(run_id)
            if self.progress:
                self.progress.advance(config.label(), ok=record.ok)
            if self.spec.cooldown_s:
                time.sleep(self.spec.cooldown_s)
            if not record.ok and self.spec.adaptive:
                break  # a failing config would fail again: do not loop on it

    def _store(self, record: RunRecord, config: PlannedConfig) -> int:
        try:
            return self.store.add(record)
        except DuplicateRunError as exc:
            raise ConcurrentSweepError(
                f"another process is running sweep {self.sweep!r} into {self.store.path}: "
                f"it stored {config.label()} (repeat {record.repeat}) first. Wait for it to "
                "finish and rerun this command to resume, or give this run another sweep "
                "name or --store"
            ) from exc

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

    def _run_once(
        self, workload: Workload, config: PlannedConfig, repeat: int, *, warmups: int = 0
    ) -> RunRecord:
        """One run (after ``warmups`` unrecorded ones) as a record, ok or failed.

        An exception is recorded, not raised, so the sweep goes on; one that comes from a
        Ctrl-C (a ``KeyboardInterrupt``, or an error raised while one was propagating)
        is raised as a ``KeyboardInterrupt``. The workload is reset in every case.
        """
        before = gpu_state()
        started = time.time()
        stage = "warm-up"
        try:
            for _ in range(warmups):
                workload.warm_up(config)
            stage = "generation"
            generation = workload.generate(config)
        except Exception as exc:
            if interrupted_by_user(exc):
                raise KeyboardInterrupt from exc
            workload.recover()
            return RunRecord(
                kind=SWEEP_KIND,
                status=RunStatus.FAILED,
                started_at=started,
                duration_s=time.time() - started,
                config=config.as_config(),
                error=f"{type(exc).__name__}: {exc}",
                failure_kind=failure_kind(exc),
                sweep=self.sweep,
                config_key=config.key,
                repeat=repeat,
                extra={
                    "failed_in": stage,
                    "traceback": traceback.format_exc(limit=8),
                    "gpu_before": before,
                    CARBON_KEY: self.carbon.to_dict(),
                },
            )
        finally:
            workload.reset()
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
                "unattached": list(generation.unattached),  # parts genwatt could not hook
                "weights_note": workload.weights_note,
                "torch_threads": workload.torch_threads,
                "gpu_before": before,
                "gpu_after": gpu_state(),
                CARBON_KEY: self.carbon.to_dict(),
            },
        )


def failure_kind(exc: Exception) -> FailureKind:
    """Whose fault a failed run is, which decides whether a resume retries it.

    genwatt's own errors, except an invalid configuration, come from the meter, the
    instrumentation or the store (a window left open, a counter that stopped
    answering): they say nothing about the configuration, so a resume retries it.
    Anything else (out of memory, a shape the model rejects) is the configuration's.
    """
    if isinstance(exc, GenwattError) and not isinstance(exc, ConfigError):
        return FailureKind.INFRASTRUCTURE
    return FailureKind.CONFIG


def interrupted_by_user(exc: BaseException) -> bool:
    """True when ``exc`` is, or was raised while handling, a ``KeyboardInterrupt``.

    Cleanup code that fails while Ctrl-C propagates (a ``finally`` closing a window that
    never opened) replaces the interrupt with its own error; the interrupt is still
    what happened, and it must stop the sweep, not be stored as a failed run.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
