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

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from genwatt.carbon.setting import CarbonSetting
from genwatt.errors import ConcurrentSweepError
from genwatt.meter.meter import Meter
from genwatt.run import workload as workloads
from genwatt.run.config_repeats import ConfigRepeats, needs_another_repeat
from genwatt.run.plan import PlannedConfig, plan_sweep
from genwatt.run.sweep_spec import SweepSpec
from genwatt.store.records import RunRecord, RunStatus
from genwatt.store.store import DuplicateRunError, ResultsStore

if TYPE_CHECKING:
    from genwatt.run.executor import Executor, Placement


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
    # Where the runs ran, when an executor other than this process ran them.
    placement: Placement | None = None


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the sweep; ``outcome`` says what was stored before it.

    Still a ``KeyboardInterrupt``, so code that handles Ctrl-C handles this; the run it
    cut short is not stored, and rerunning the sweep resumes from there.
    """

    def __init__(self, outcome: SweepOutcome, store: Path) -> None:
        super().__init__(f"sweep {outcome.sweep!r} interrupted after {outcome.ran} stored runs")
        self.outcome = outcome
        self.store = store


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
        executor: Executor | None = None,
    ) -> None:
        self.spec = spec
        self.store = store
        self.sweep = sweep
        # Stored with every run, so its CO2e reads the same in every later command.
        self.carbon = carbon or CarbonSetting.resolve()
        # Validates everything before anything runs; the device too, unless the runs go
        # to an executor's workers (the device is theirs, and this process may have none).
        self.plan = plan_sweep(spec, base, require_device=executor is None)
        self.meter = meter
        self.progress = progress
        # None: every configuration runs here, in this process, on one workload.
        self.executor = executor

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
        try:
            if self.executor is not None:
                self._run_on_executor(todo, done, outcome)
            else:
                self._run_here(todo, done, outcome)
        except KeyboardInterrupt as exc:
            raise SweepInterrupted(outcome, self.store.path) from exc
        return outcome

    def _run_here(
        self, todo: list[PlannedConfig], done: set[tuple[str, int]], outcome: SweepOutcome
    ) -> None:
        """Every configuration in this process, on one workload, under one meter."""
        meter = self.meter or Meter(timeline=self.spec.timeline)
        try:
            # Looked up on the module when called, so a test can put a fake workload there.
            workload = workloads.build_workload(self.spec, todo[0], meter)
            for config in todo:
                self._repeats(config, done).run(
                    workload, lambda record, c=config: self._keep(record, c, done, outcome)
                )
        finally:
            if self.meter is None:
                meter.close()

    def _run_on_executor(
        self, todo: list[PlannedConfig], done: set[tuple[str, int]], outcome: SweepOutcome
    ) -> None:
        """Each configuration as one job on the executor (a Ray cluster): the job builds
        its own workload in its own process and returns its runs, which are stored here,
        by this process alone, as they arrive."""
        from genwatt.run.sweep_job import SweepJob

        jobs = [SweepJob(self._repeats(config, done)) for config in todo]
        by_key = {c.key: c for c in todo}
        assert self.executor is not None
        outcome.placement = self.executor.run(
            jobs, lambda job, record: self._keep(record, by_key[job.key], done, outcome)
        )

    def _repeats(self, config: PlannedConfig, done: set[tuple[str, int]]) -> ConfigRepeats:
        """What ``config`` still needs, from what the store holds."""
        return ConfigRepeats(
            self.spec,
            config,
            sweep=self.sweep,
            carbon=self.carbon,
            taken={r for k, r in done if k == config.key},
            energies=self._energies(config.key),
        )

    def _keep(
        self,
        record: RunRecord,
        config: PlannedConfig,
        done: set[tuple[str, int]],
        outcome: SweepOutcome,
    ) -> None:
        """Store one finished run and count it."""
        run_id = self._store(record, config)
        done.add((config.key, record.repeat))
        outcome.ran += 1
        outcome.failed += 0 if record.ok else 1
        outcome.retryable += 1 if record.retryable else 0
        outcome.run_ids.append(run_id)
        if self.progress:
            self.progress.advance(config.label(), ok=record.ok)

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
