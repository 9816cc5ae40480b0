"""The runs one sweep configuration still needs, and how each is made and recorded.

The local runner (``genwatt.run.runner``) uses it in this process, on the sweep's one
workload; an executor ships it to a worker process inside a ``SweepJob``
(``genwatt.run.sweep_job``). Adaptive repeats stop once the 95 % confidence half-width
of the mean energy is within the spec's target.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from genwatt.carbon.setting import RECORD_KEY as CARBON_KEY
from genwatt.carbon.setting import CarbonSetting
from genwatt.run.failures import failed_run, interrupted_by_user
from genwatt.run.gpu_state import gpu_state
from genwatt.run.instrument import GenerationRecord
from genwatt.run.plan import PlannedConfig
from genwatt.run.sweep_spec import AdaptiveRepeats, SweepSpec
from genwatt.store.records import RunRecord, RunStatus

SWEEP_KIND = "sweep"


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


def first_free_repeat(taken: set[int]) -> int:
    """The lowest repeat number not in ``taken``: where the next run of a configuration
    goes, filling any gap a failed-and-retried run left."""
    repeat = 0
    while repeat in taken:
        repeat += 1
    return repeat


@dataclass
class ConfigRepeats:
    """The runs one configuration still needs, and how to make them.

    ``taken`` are the repeat numbers already stored and ``energies`` the stored energies
    of its ok runs (they decide adaptive repeats). ``run`` makes the missing runs on a
    workload and hands each record to ``keep`` as it is made; the same object runs in
    this process (the local executor) or is shipped to a worker (``SweepJob``).
    """

    spec: SweepSpec
    config: PlannedConfig
    sweep: str
    carbon: CarbonSetting
    taken: set[int] = field(default_factory=set)
    energies: list[float] = field(default_factory=list)

    def run(self, workload: Workload, keep: Callable[[RunRecord], None]) -> None:
        warmups = self.spec.warmup
        taken, energies = set(self.taken), list(self.energies)
        while needs_another_repeat(energies, len(taken), self.spec):
            repeat = first_free_repeat(taken)
            record = self.run_once(workload, repeat, warmups=warmups)
            warmups = 0  # once per configuration, before its first run
            keep(record)
            taken.add(repeat)
            if record.ok and self.spec.adaptive is not None:
                energies.append(record.total_energy_j or 0.0)
            if self.spec.cooldown_s:
                time.sleep(self.spec.cooldown_s)
            if not record.ok and self.spec.adaptive:
                break  # a failing config would fail again: do not loop on it

    def failed(self, exc: Exception, started: float, stage: str, repeat: int) -> RunRecord:
        """A failed run of this configuration, with its error, as the store keeps it."""
        return failed_run(
            exc,
            kind=SWEEP_KIND,
            sweep=self.sweep,
            config_key=self.config.key,
            config=self.config.as_config(),
            started=started,
            stage=stage,
            carbon=self.carbon,
            repeat=repeat,
        )

    def run_once(self, workload: Workload, repeat: int, *, warmups: int = 0) -> RunRecord:
        """One run (after ``warmups`` unrecorded ones) as a record, ok or failed.

        An exception is recorded, not raised, so the sweep goes on; one that comes from a
        Ctrl-C (a ``KeyboardInterrupt``, or an error raised while one was propagating)
        is raised as a ``KeyboardInterrupt``. The workload is reset in every case.
        """
        config = self.config
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
            record = self.failed(exc, started, stage, repeat)
            record.extra["gpu_before"] = before
            return record
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
