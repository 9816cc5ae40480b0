"""Run a planned suite under the meter, one committed configuration at a time.

Each configuration (a model on a task at one batch size) is built, warmed up on queries
that are not measured, then run over all its queries in one measured call. What is
stored is one run per configuration: the whole call's window, one window per phase
summed over the queries, and one per denoising step or generated token summed over the
queries (``genwatt.meter.phases.breakdown`` reads them back into phases). Per-query
figures are those sums over the query count.

As in a sweep (``genwatt.run.runner``), every configuration is committed before the next
starts and keyed in the store, so a suite killed at any point resumes where it stopped;
a model that fails (out of memory, a shape it rejects) is stored as failed with its
error and the suite goes on; Ctrl-C stops it with ``SuiteInterrupted``.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from genwatt.carbon.setting import RECORD_KEY as CARBON_KEY
from genwatt.carbon.setting import CarbonSetting
from genwatt.errors import ConcurrentSweepError
from genwatt.meter.aggregate import combine
from genwatt.meter.meter import Meter
from genwatt.meter.phases import DECODE, DENOISE, GENERATION, PhaseBreakdown
from genwatt.meter.result import WindowResult
from genwatt.run.gpu_state import gpu_state
from genwatt.run.runner import failure_kind, interrupted_by_user
from genwatt.run.suite.plan import SuiteConfig
from genwatt.run.suite.query import Query
from genwatt.run.suite.task_workload import TaskMeasurement, TaskWorkload, build_task_workload
from genwatt.store.records import RunRecord, RunStatus
from genwatt.store.store import DuplicateRunError, ResultsStore

SUITE_KIND = "suite"


@dataclass
class SuiteOutcome:
    """What one ``SuiteRunner.run`` did (as ``SweepOutcome`` for a sweep)."""

    suite: str
    planned: int
    ran: int = 0
    skipped: int = 0
    failed: int = 0
    run_ids: list[int] = field(default_factory=list)


class SuiteInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the suite; ``outcome`` says what was stored before it."""

    def __init__(self, outcome: SuiteOutcome, store: Path) -> None:
        super().__init__(f"suite {outcome.suite!r} interrupted after {outcome.ran} stored runs")
        self.outcome = outcome
        self.store = store


class SuiteProgress(Protocol):
    """Where the runner reports progress (rich bars in the CLI)."""

    def start(self, total: int, done: int) -> None: ...

    def config_started(self, label: str, queries: int) -> None: ...

    def query_done(self) -> None: ...

    def config_done(self, label: str, ok: bool) -> None: ...


class QueriesFor(Protocol):
    """A configuration's queries: ``count`` measured ones, or warm-up ones (drawn apart
    from the measured ones, so that the measured queries do not depend on the warm-up)."""

    def __call__(
        self, config: SuiteConfig, count: int, *, warmup: bool = False
    ) -> Sequence[Query]: ...


def summed_windows(calls: list[PhaseBreakdown]) -> list[WindowResult]:
    """The windows stored for a configuration: the calls' total, each phase, and each
    step or token, summed over every call (and so over every query)."""
    windows = [combine(GENERATION, [c.total for c in calls])]
    names = dict.fromkeys(name for c in calls for name in c.phases if name not in (DENOISE, DECODE))
    for name in names:
        windows.append(
            combine(name, [c.phases[name] for c in calls if name in c.phases], parent=GENERATION)
        )
    steps = dict.fromkeys(w.name for c in calls for w in c.steps)
    for name in steps:
        parts = [w for c in calls for w in c.steps if w.name == name]
        windows.append(combine(name, parts, parent=GENERATION))
    return windows


class SuiteRunner:
    """Runs ``plan`` into ``store`` under the suite id ``suite``; resumes by default.

    ``queries_for`` gives each configuration's queries (see ``QueriesFor``); ``idle_s``
    seconds of idle power are measured first where asked, so that figures net of idle
    can be reported.
    """

    def __init__(
        self,
        plan: list[SuiteConfig],
        store: ResultsStore,
        *,
        suite: str,
        queries_for: QueriesFor,
        meter: Meter | None = None,
        progress: SuiteProgress | None = None,
        carbon: CarbonSetting | None = None,
        idle_s: float = 0.0,
    ) -> None:
        self.plan = plan
        self.store = store
        self.suite = suite
        self.queries_for = queries_for
        self.meter = meter
        self.progress = progress
        self.carbon = carbon or CarbonSetting.resolve()
        self.idle_s = idle_s

    def run(self) -> SuiteOutcome:
        outcome = SuiteOutcome(self.suite, len(self.plan))
        self.store.check_writable()
        done = {key for key, _ in self.store.completed(self.suite)}
        todo = [c for c in self.plan if c.key not in done]
        outcome.skipped = len(self.plan) - len(todo)
        if self.progress:
            self.progress.start(total=len(self.plan), done=outcome.skipped)
        if not todo:
            return outcome
        meter = self.meter or Meter()
        try:
            idle = meter.idle(self.idle_s).to_dict() if self.idle_s > 0 else None
            self._run_all(todo, meter, outcome, idle)
        except KeyboardInterrupt as exc:
            raise SuiteInterrupted(outcome, self.store.path) from exc
        finally:
            if self.meter is None:
                meter.close()
        return outcome

    def _run_all(
        self,
        todo: list[SuiteConfig],
        meter: Meter,
        outcome: SuiteOutcome,
        idle: dict[str, Any] | None,
    ) -> None:
        workload: TaskWorkload | None = None
        built_for: tuple[str, str] | None = None
        for config in todo:
            record: RunRecord | None = None
            if built_for != (config.model.repo_id, config.task.name):
                workload = None  # free the previous model before building the next
                started = time.time()
                try:
                    workload = build_task_workload(config, meter)
                    built_for = (config.model.repo_id, config.task.name)
                except Exception as exc:
                    if interrupted_by_user(exc):
                        raise KeyboardInterrupt from exc
                    built_for = None
                    record = self._failed(config, exc, started, "build")
            if record is None:
                assert workload is not None
                record = self._run_once(workload, config, meter, idle)
            self._store(record, config, outcome)

    def _store(self, record: RunRecord, config: SuiteConfig, outcome: SuiteOutcome) -> None:
        try:
            run_id = self.store.add(record)
        except DuplicateRunError as exc:
            raise ConcurrentSweepError(
                f"another process is running suite {self.suite!r} into {self.store.path}: it "
                f"stored {config.label} on {config.task.name} first. Wait for it and rerun "
                "this command to resume, or use another --store."
            ) from exc
        outcome.ran += 1
        outcome.failed += 0 if record.ok else 1
        outcome.run_ids.append(run_id)
        if self.progress:
            self.progress.config_done(f"{config.task.name} {config.label}", record.ok)

    def _failed(self, config: SuiteConfig, exc: Exception, started: float, stage: str) -> RunRecord:
        return RunRecord(
            kind=SUITE_KIND,
            status=RunStatus.FAILED,
            started_at=started,
            duration_s=time.time() - started,
            config=config.as_config(),
            error=f"{type(exc).__name__}: {exc}",
            failure_kind=failure_kind(exc),
            sweep=self.suite,
            config_key=config.key,
            extra={
                "failed_in": stage,
                "traceback": traceback.format_exc(limit=8),
                CARBON_KEY: self.carbon.to_dict(),
            },
        )

    def _run_once(
        self,
        workload: TaskWorkload,
        config: SuiteConfig,
        meter: Meter,
        idle: dict[str, Any] | None,
    ) -> RunRecord:
        started = time.time()
        stage = "queries"
        before = gpu_state()
        try:
            queries = self.queries_for(config, config.queries)
            if self.progress:
                self.progress.config_started(f"{config.task.name} {config.label}", len(queries))
            stage = "warm-up"
            if config.warmup:
                warm = self.queries_for(config, config.warmup, warmup=True)
                workload.warm_up(warm, config)
            stage = "measurement"
            on_query = self.progress.query_done if self.progress else (lambda: None)
            measured = workload.run(queries, config, on_query)
        except Exception as exc:
            if interrupted_by_user(exc):
                raise KeyboardInterrupt from exc
            workload.recover()
            return self._failed(config, exc, started, stage)
        finally:
            workload.reset()
        return self._record(config, workload, measured, queries, before, idle)

    def _record(
        self,
        config: SuiteConfig,
        workload: TaskWorkload,
        measured: TaskMeasurement,
        queries: Sequence[Query],
        before: Any,
        idle: dict[str, Any] | None,
    ) -> RunRecord:
        from genwatt.run.suite.scoring import quality_of

        windows = summed_windows(measured.calls)
        total = windows[0]
        phases = {w.name: w.total_energy_j for w in windows[1:] if ":" not in w.name}
        return RunRecord(
            kind=SUITE_KIND,
            status=RunStatus.OK,
            started_at=total.started_at,
            duration_s=total.duration_s,
            config=config.as_config(),
            windows=windows,
            sweep=self.suite,
            config_key=config.key,
            extra={
                "queries_run": measured.queries,
                "phases_j": phases,
                "phases_add_up": all(c.adds_up for c in measured.calls),
                "quality": quality_of(config, measured.outputs, queries),
                "unattached": measured.unattached,
                "weights_note": workload.weights_note,
                "idle": idle,
                "gpu_before": before,
                "gpu_after": gpu_state(),
                CARBON_KEY: self.carbon.to_dict(),
            },
        )
