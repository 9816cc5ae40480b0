"""Configuration jobs whose behaviour a Ray test chooses: they finish, die, or raise.

Imported by the tests and pickled by value into Ray's workers (which cannot import the
test tree), so that a worker runs exactly this code. Each job leaves one file per
attempt in ``marker_dir`` naming the node it ran on, which is how a test sees what the
cluster did, retries included.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from genwatt.meter.result import Method, Provenance, WindowResult
from genwatt.store.records import FailureKind, RunRecord, RunStatus

SWEEP = "ray-fakes"


def _window(energy_j: float, started: float, duration_s: float) -> WindowResult:
    return WindowResult(
        name="generation",
        started_at=started,
        duration_s=duration_s,
        energy_j={"cpu": energy_j},
        provenance={"cpu": Provenance.ESTIMATED},
        method={"cpu": Method.ESTIMATE},
    )


@dataclass
class FakeJob:
    """``behaviour``: ok | die_once | die_always | raise_oom | slow."""

    name: str
    behaviour: str
    marker_dir: str
    seconds: float = 0.2
    device: str = "cpu"

    @property
    def key(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return self.name

    def execute(self) -> list[RunRecord]:
        import ray

        attempts = sorted(Path(self.marker_dir).glob(f"{self.name}.*"))
        node = ray.get_runtime_context().get_node_id()
        Path(self.marker_dir, f"{self.name}.{len(attempts) + 1}.{node}").touch()
        if self.behaviour == "die_always" or (self.behaviour == "die_once" and not attempts):
            os._exit(1)  # the worker process dies, as on a segfault or a lost node
        if self.behaviour == "raise_oom":
            raise RuntimeError("CUDA out of memory. Tried to allocate 80.00 GiB (simulated)")
        started = time.time()
        time.sleep(self.seconds)
        return [
            RunRecord(
                kind="sweep",
                status=RunStatus.OK,
                started_at=started,
                duration_s=time.time() - started,
                config={"name": self.name},
                windows=[_window(1.0, started, time.time() - started)],
                sweep=SWEEP,
                config_key=self.name,
            )
        ]

    def infra_failed(self, error: str) -> RunRecord:
        return RunRecord(
            kind="sweep",
            status=RunStatus.FAILED,
            started_at=time.time(),
            duration_s=0.0,
            config={"name": self.name},
            error=error,
            failure_kind=FailureKind.INFRASTRUCTURE,
            sweep=SWEEP,
            config_key=self.name,
        )


def attempts_of(marker_dir: Path, name: str) -> list[str]:
    """The node of each attempt of ``name``, in order."""
    found = sorted(marker_dir.glob(f"{name}.*"), key=lambda p: int(p.name.split(".")[1]))
    return [p.name.split(".", 2)[2] for p in found]
