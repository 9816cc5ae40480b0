"""One configuration of a sweep as a job for an executor's worker process.

The worker builds the configuration's own workload under its own meter (a fresh process
has neither), makes the runs the store still lacks (``ConfigRepeats``, the same code the
local runner uses) and returns them; the driver stores them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from genwatt.errors import GenwattError
from genwatt.meter.meter import Meter
from genwatt.run import workload as workloads
from genwatt.run.config_repeats import ConfigRepeats, first_free_repeat
from genwatt.run.failures import as_infrastructure_failure, interrupted_by_user
from genwatt.store.records import RunRecord


@dataclass
class SweepJob:
    """``repeats`` of one configuration, runnable in any process."""

    repeats: ConfigRepeats

    @property
    def key(self) -> str:
        return self.repeats.config.key

    @property
    def label(self) -> str:
        return self.repeats.config.label()

    @property
    def device(self) -> str:
        return self.repeats.config.device

    def execute(self) -> list[RunRecord]:
        records: list[RunRecord] = []
        meter = Meter(timeline=self.repeats.spec.timeline)
        try:
            started = time.time()
            try:
                workload = workloads.build_workload(self.repeats.spec, self.repeats.config, meter)
            except Exception as exc:
                if interrupted_by_user(exc):
                    raise KeyboardInterrupt from exc
                repeat = first_free_repeat(self.repeats.taken)
                return [self.repeats.failed(exc, started, "build", repeat)]
            self.repeats.run(workload, records.append)
        finally:
            meter.close()
        return records

    def infra_failed(self, error: str) -> RunRecord:
        failed = self.repeats.failed(
            GenwattError(error), time.time(), "executor", first_free_repeat(self.repeats.taken)
        )
        return as_infrastructure_failure(failed, error)
