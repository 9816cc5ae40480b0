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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genwatt.carbon.setting import CarbonSetting
from genwatt.errors import ConcurrentSweepError
from genwatt.meter.meter import Meter
from genwatt.run.failures import interrupted_by_user
from genwatt.run.suite.config_measurement import (
    ConfigMeasurement,
    QueriesFor,
    SuiteProgress,
)
from genwatt.run.suite.plan import SuiteConfig
from genwatt.run.suite.task_workload import TaskWorkload, build_task_workload
from genwatt.store.records import RunRecord
from genwatt.store.store import DuplicateRunError, ResultsStore

if TYPE_CHECKING:
    from genwatt.run.executor import Executor, Placement


@dataclass
class SuiteOutcome:
    """What one ``SuiteRunner.run`` did (as ``SweepOutcome`` for a sweep)."""

    suite: str
    planned: int
    ran: int = 0
    skipped: int = 0
    failed: int = 0
    run_ids: list[int] = field(default_factory=list)
    # Where the runs ran, when an executor other than this process ran them.
    placement: Placement | None = None


class SuiteInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the suite; ``outcome`` says what was stored before it."""

    def __init__(self, outcome: SuiteOutcome, store: Path) -> None:
        super().__init__(f"suite {outcome.suite!r} interrupted after {outcome.ran} stored runs")
        self.outcome = outcome
        self.store = store


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
        executor: Executor | None = None,
    ) -> None:
        self.plan = plan
        self.store = store
        self.suite = suite
        self.queries_for = queries_for
        self.meter = meter
        self.progress = progress
        self.carbon = carbon or CarbonSetting.resolve()
        self.idle_s = idle_s
        # None: every configuration runs here, in this process.
        self.executor = executor
        self.measure = ConfigMeasurement(suite, queries_for, self.carbon, progress)

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
        try:
            if self.executor is not None:
                self._run_on_executor(todo, outcome)
            else:
                self._run_here(todo, outcome)
        except KeyboardInterrupt as exc:
            raise SuiteInterrupted(outcome, self.store.path) from exc
        return outcome

    def _run_here(self, todo: list[SuiteConfig], outcome: SuiteOutcome) -> None:
        """Every configuration in this process, under one meter (idle measured first)."""
        meter = self.meter or Meter()
        try:
            idle = meter.idle(self.idle_s).to_dict() if self.idle_s > 0 else None
            self._run_all(todo, meter, outcome, idle)
        finally:
            if self.meter is None:
                meter.close()

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
                    record = self.measure.failed(config, exc, started, "build")
            if record is None:
                assert workload is not None
                record = self.measure.run_once(workload, config, meter, idle)
            self._store(record, config, outcome)

    def _run_on_executor(self, todo: list[SuiteConfig], outcome: SuiteOutcome) -> None:
        """Each configuration as one job on the executor: built, warmed up and measured
        in a process of its own; its run is stored here as it arrives."""
        from genwatt.run.suite.suite_job import SuiteJob

        measure = replace(self.measure, progress=None)  # the driver reports progress
        jobs = [SuiteJob(config, measure, self.idle_s) for config in todo]
        by_key = {c.key: c for c in todo}
        assert self.executor is not None
        outcome.placement = self.executor.run(
            jobs, lambda job, record: self._store(record, by_key[job.key], outcome)
        )

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
