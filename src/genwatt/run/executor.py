"""The executor seam: what runs a sweep's or a suite's configurations, and where.

The local executor is no object: the runners loop over their configurations in this
process, on one workload (``genwatt.run.runner``, ``genwatt.run.suite.runner``). Any
other executor (``genwatt.run.ray_executor``) takes the configurations as ``ConfigJob``
objects, runs each in a process of its own, somewhere, and hands every finished run
back to the caller, which is the only writer of the store. ``Placement`` is what the
executor saw of where the runs went; the sweep's report prints it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from genwatt.store.records import RunRecord

LOCAL = "local"
RAY = "ray"
EXECUTORS = (LOCAL, RAY)
# The key under which a run's record says where it ran (node, GPU, attempts).
RECORD_KEY = "executor"


class ConfigJob(Protocol):
    """One configuration as a unit of work that can be shipped to another process."""

    @property
    def key(self) -> str:
        """The configuration's key in the store."""

    @property
    def label(self) -> str:
        """How progress and errors name it."""

    @property
    def device(self) -> str:
        """The torch device it runs on ("cpu", "cuda", "cuda:1")."""

    def execute(self) -> list[RunRecord]:
        """Build, measure and return the runs: ok or failed (a configuration's own
        failure, such as out of memory, is a failed record, never an exception)."""

    def infra_failed(self, error: str) -> RunRecord:
        """The record kept when the job could not finish for reasons that are not the
        configuration's (its worker or node died every time it was tried)."""


Keep = Callable[[ConfigJob, RunRecord], None]


@dataclass
class Placement:
    """Where an executor ran the jobs: node ids, GPU UUIDs, and tries."""

    executor: str
    nodes: set[str] = field(default_factory=set)
    gpus: set[str] = field(default_factory=set)
    jobs: int = 0
    retried: int = 0  # jobs that needed more than one attempt
    infra_failed: int = 0  # jobs whose every attempt died
    contaminated: int = 0  # jobs that shared their GPU with a foreign process

    def to_dict(self) -> dict[str, Any]:
        return {
            "executor": self.executor,
            "nodes": len(self.nodes),
            "gpus": len(self.gpus),
            "jobs": self.jobs,
            "retried": self.retried,
            "infra_failed": self.infra_failed,
            "contaminated": self.contaminated,
        }

    def describe(self) -> str:
        """One line for the end-of-sweep report."""
        gpus = f"{len(self.gpus)} GPU{'s' if len(self.gpus) != 1 else ''}"
        nodes = f"{len(self.nodes)} node{'s' if len(self.nodes) != 1 else ''}"
        text = f"ran on {self.executor}: {self.jobs} configurations on {nodes}, {gpus}"
        notes = []
        if self.retried:
            notes.append(f"{self.retried} retried after a worker or node died")
        if self.infra_failed:
            notes.append(
                f"{self.infra_failed} gave up after every retry (stored as infra_failed; "
                "a resume runs them again)"
            )
        if self.contaminated:
            notes.append(f"{self.contaminated} shared their GPU with another process (flagged)")
        return text + (f"; {'; '.join(notes)}" if notes else "")


class Executor(Protocol):
    """Runs jobs, somewhere, and hands each finished run to ``keep`` as it arrives."""

    name: str

    def run(self, jobs: Sequence[ConfigJob], keep: Keep) -> Placement: ...


def validate_executor(name: str) -> str:
    """The executor's name, checked: one clear line for a typo."""
    from genwatt.errors import ConfigError

    if name not in EXECUTORS:
        raise ConfigError(f"--executor must be one of {', '.join(EXECUTORS)}, got {name!r}")
    return name
