"""One configuration of a suite as a job for an executor's worker process.

The worker measures idle power when asked (on its own GPU: each worker may hold a
different one), builds the model, warms it up and measures its queries with the same
code as the local runner (``ConfigMeasurement``), and returns the one run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from genwatt.errors import GenwattError
from genwatt.meter.meter import Meter
from genwatt.run.failures import as_infrastructure_failure, interrupted_by_user
from genwatt.run.suite.config_measurement import ConfigMeasurement
from genwatt.run.suite.plan import SuiteConfig
from genwatt.run.suite.task_workload import build_task_workload
from genwatt.run.workload import TINY_CPU_THREADS
from genwatt.store.records import RunRecord


@dataclass
class SuiteJob:
    """A suite configuration, runnable in any process."""

    config: SuiteConfig
    measure: ConfigMeasurement
    idle_s: float = 0.0

    @property
    def key(self) -> str:
        return self.config.key

    @property
    def label(self) -> str:
        return f"{self.config.task.name} {self.config.label}"

    @property
    def device(self) -> str:
        return self.config.device

    def execute(self) -> list[RunRecord]:
        if self.config.weights == "tiny" and self.config.device == "cpu":
            import torch

            torch.set_num_threads(TINY_CPU_THREADS)  # as the local runner does
        meter = Meter()
        try:
            idle = meter.idle(self.idle_s).to_dict() if self.idle_s > 0 else None
            started = time.time()
            try:
                workload = build_task_workload(self.config, meter)
            except Exception as exc:
                if interrupted_by_user(exc):
                    raise KeyboardInterrupt from exc
                return [self.measure.failed(self.config, exc, started, "build")]
            return [self.measure.run_once(workload, self.config, meter, idle)]
        finally:
            meter.close()

    def infra_failed(self, error: str) -> RunRecord:
        failed = self.measure.failed(self.config, GenwattError(error), time.time(), "executor")
        return as_infrastructure_failure(failed, error)
