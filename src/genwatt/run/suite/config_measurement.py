"""How one suite configuration is measured and recorded, in whatever process runs it.

A configuration is warmed up on queries that are not measured, then run over all its
queries in one measured call. What is stored is one run: the whole call's window, one
window per phase summed over the queries, and one per denoising step or generated
token summed over the queries (``genwatt.meter.phases.breakdown`` reads them back into
phases). The local runner (``genwatt.run.suite.runner``) and an executor's worker
(``genwatt.run.suite.suite_job``) share this code.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from genwatt.carbon.setting import RECORD_KEY as CARBON_KEY
from genwatt.carbon.setting import CarbonSetting
from genwatt.meter.aggregate import combine
from genwatt.meter.meter import Meter
from genwatt.meter.phases import DECODE, DENOISE, GENERATION, PhaseBreakdown
from genwatt.meter.result import WindowResult
from genwatt.run.failures import failed_run, interrupted_by_user
from genwatt.run.gpu_state import gpu_state
from genwatt.run.suite.plan import SuiteConfig
from genwatt.run.suite.query import Query
from genwatt.run.suite.task_workload import TaskMeasurement, TaskWorkload
from genwatt.store.records import RunRecord, RunStatus

SUITE_KIND = "suite"


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


@dataclass
class ConfigMeasurement:
    """How one configuration is measured and recorded, in whatever process runs it.

    The local runner and an executor's worker (``genwatt.run.suite.suite_job``) share
    it; ``progress`` is None in a worker, whose progress the driver reports.
    """

    suite: str
    queries_for: QueriesFor
    carbon: CarbonSetting
    progress: SuiteProgress | None = None

    def failed(self, config: SuiteConfig, exc: Exception, started: float, stage: str) -> RunRecord:
        return failed_run(
            exc,
            kind=SUITE_KIND,
            sweep=self.suite,
            config_key=config.key,
            config=config.as_config(),
            started=started,
            stage=stage,
            carbon=self.carbon,
        )

    def run_once(
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
            return self.failed(config, exc, started, stage)
        finally:
            workload.reset()
        return self.record(config, workload, measured, queries, before, idle)

    def record(
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
