"""Run a sweep's or a suite's configurations on a Ray cluster, one task per configuration.

Each configuration is one Ray task in a fresh worker process (``max_calls=1``): it
declares one GPU when it runs on CUDA (Ray then sets the worker's
``CUDA_VISIBLE_DEVICES``), none when it runs on the CPU, unless the caller says
otherwise. The worker pins its GPU by UUID and notes who else used it
(``genwatt.run.worker_gpu``), builds and measures the configuration, and returns its
runs as values: this process, the driver, is the store's only writer and commits each
run as its task finishes (``ray.wait``), keeping about twice the cluster's GPUs (or,
for CPU configurations, ``max_parallel`` or its CPUs) in flight.

Failures are sorted by whose they are. A configuration's own error (out of memory, a
shape its model rejects) is caught in the worker and comes back as a failed run, never
retried. A worker or node that dies is Ray's to retry (``max_retries``); every task
counts its attempts in a small actor on the driver's node, and the count is stored with
each run. A configuration whose every attempt died is stored as failed with
``infra_failed`` in its record and the infrastructure failure kind, so a resumed sweep
runs it again. A killed driver takes its tasks with it; rerunning the command resumes
from the store exactly as the local executor does.

``ray`` is imported only here, and only when this executor runs.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from genwatt.errors import ConfigError
from genwatt.run.executor import RAY, RECORD_KEY, ConfigJob, Keep, Placement
from genwatt.run.failures import failure_kind
from genwatt.run.worker_gpu import gpu_sharing, pin_worker_gpu
from genwatt.store.environment import current_environment
from genwatt.store.records import FailureKind, RunRecord

DEFAULT_MAX_RETRIES = 3
INFRA_FAILED = "infra_failed"  # the key a run's extra carries when its every attempt died


@dataclass(frozen=True)
class RayOptions:
    """How to reach the cluster and how to place configurations on it.

    ``address``: None starts a local Ray instance sized to this machine; "auto" or
    HOST:PORT joins a running cluster. ``gpus_per_config``: None declares one GPU for a
    CUDA configuration and none for a CPU one. ``max_parallel``: at most this many
    configurations in flight (default: twice the cluster's GPUs, or its CPUs for CPU
    configurations). ``max_retries``: Ray's retries of a task whose worker or node died.
    """

    address: str | None = None
    max_parallel: int | None = None
    gpus_per_config: float | None = None
    max_retries: int = DEFAULT_MAX_RETRIES

    def __post_init__(self) -> None:
        if self.max_parallel is not None and self.max_parallel < 1:
            raise ConfigError(f"--max-parallel must be at least 1, got {self.max_parallel}")
        if self.gpus_per_config is not None and not 0 <= self.gpus_per_config <= 64:
            raise ConfigError(
                f"--gpus-per-config must be between 0 and 64, got {self.gpus_per_config}"
            )
        if self.max_retries < 0:
            raise ConfigError(f"max_retries must be 0 or more, got {self.max_retries}")


@dataclass
class JobReport:
    """What a worker returns for one configuration: its runs and where they ran."""

    records: list[RunRecord]
    attempt: int | None  # None: the attempt ledger could not be reached
    node_id: str
    hostname: str
    gpu_ids: list[str]
    gpu_uuid: str | None
    sharing: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0

    def placement(self) -> dict[str, Any]:
        """The record's ``executor`` entry."""
        return {
            "kind": RAY,
            "node_id": self.node_id,
            "hostname": self.hostname,
            "gpu_ids": self.gpu_ids,
            "gpu_uuid": self.gpu_uuid,
            "attempts": self.attempt,
            "started": self.started,
            "finished": self.finished,
            "gpu_sharing": self.sharing,
        }


def execute_job(job: ConfigJob, ledger: Any) -> JobReport:
    """The body of a configuration's Ray task, in its worker."""
    import ray

    attempt = _ask_ledger(ray, ledger.begin, job.key)
    context = ray.get_runtime_context()
    gpu_ids = [str(i) for i in ray.get_gpu_ids()]
    started = time.time()
    gpu = pin_worker_gpu(uses_gpu=job.device.startswith("cuda"))
    records = job.execute()
    sharing = gpu_sharing(gpu)
    environment = current_environment()  # this worker's node and GPU, not the driver's
    records = [r if r.environment else replace(r, environment=environment) for r in records]
    return JobReport(
        records=records,
        attempt=attempt,
        node_id=context.get_node_id(),
        hostname=socket.gethostname(),
        gpu_ids=gpu_ids,
        gpu_uuid=gpu.uuid,
        sharing=sharing.to_dict(),
        started=started,
        finished=time.time(),
    )


def _ask_ledger(ray: Any, method: Any, key: str) -> int | None:
    """A call to the attempt ledger; None when the ledger is gone (the count is then
    unknown, which the record says, rather than the configuration failing for it)."""
    try:
        return int(ray.get(method.remote(key)))
    except ray.exceptions.RayError:
        return None


class AttemptLedger:
    """Counts each configuration's attempts (a Ray actor on the driver's node): Ray
    retries a task whose worker died without telling the task which attempt it is."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def begin(self, key: str) -> int:
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]

    def attempts(self, key: str) -> int:
        return self.counts.get(key, 0)


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--executor ray needs Ray: pip install 'genwatt[ray]' (on every node of the cluster)"
        ) from None
    return ray


class RayExecutor:
    """Runs ``ConfigJob`` objects as Ray tasks; see the module's docstring."""

    name = RAY

    def __init__(self, options: RayOptions | None = None) -> None:
        self.options = options or RayOptions()

    def run(self, jobs: Sequence[ConfigJob], keep: Keep) -> Placement:
        ray = import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            self._connect(ray)
        try:
            self._check_feasible(ray, jobs)
            return self._run_jobs(ray, jobs, keep)
        finally:
            if started_here:
                ray.shutdown()

    def _run_jobs(self, ray: Any, jobs: Sequence[ConfigJob], keep: Keep) -> Placement:
        """Submit, wait, store; keep about ``_in_flight`` tasks queued or running."""
        placement = Placement(RAY)
        ledger = self._ledger(ray)
        pending: dict[Any, ConfigJob] = {}
        try:
            task = ray.remote(max_calls=1)(execute_job)
            queue = deque(jobs)
            limit = self._in_flight(ray, jobs)
            while queue or pending:
                while queue and len(pending) < limit:
                    job = queue.popleft()
                    ref = task.options(
                        num_gpus=self._gpus(job),
                        num_cpus=1,
                        max_retries=self.options.max_retries,
                        retry_exceptions=False,
                        name=f"genwatt {job.label}",
                    ).remote(job, ledger)
                    pending[ref] = job
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    job = pending.pop(ref)
                    self._finish(ray, ref, job, ledger, keep, placement)
        except BaseException:
            for ref in pending:  # a killed or interrupted driver leaves nothing running
                ray.cancel(ref, force=True)
            raise
        finally:
            ray.kill(ledger)
        return placement

    def _connect(self, ray: Any) -> None:
        address = self.options.address
        try:
            ray.init(
                # "local": a new instance of our own, never a cluster found on this machine
                address=address or "local",
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
        except ConnectionError as exc:
            raise ConfigError(
                f"cannot reach the Ray cluster at {address!r}: {exc}. Start one with "
                "`ray start --head`, or leave --ray-address out for a local instance"
            ) from None

    def _ledger(self, ray: Any) -> Any:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = ray.get_runtime_context().get_node_id()
        actor = ray.remote(num_cpus=0)(AttemptLedger)
        return actor.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=here, soft=False)
        ).remote()

    def _check_feasible(self, ray: Any, jobs: Sequence[ConfigJob]) -> None:
        """Refuse, in one line, jobs that no node of the cluster could ever run (Ray
        would queue them for ever)."""
        needed = max((self._gpus(job) for job in jobs), default=0.0)
        if needed <= 0:
            return
        largest = max(
            (n["Resources"].get("GPU", 0.0) for n in ray.nodes() if n.get("Alive")),
            default=0.0,
        )
        if largest < needed:
            where = self.options.address or "the local Ray instance"
            raise ConfigError(
                f"each configuration needs {needed:g} GPU(s) but no node of {where} has "
                f"{'any' if largest == 0 else f'more than {largest:g}'}: run on a cluster "
                "with GPUs, or pass --gpus-per-config 0 for CPU configurations"
            )

    def _gpus(self, job: ConfigJob) -> float:
        if self.options.gpus_per_config is not None:
            return self.options.gpus_per_config
        return 1.0 if job.device.startswith("cuda") else 0.0

    def _in_flight(self, ray: Any, jobs: Sequence[ConfigJob]) -> int:
        if self.options.max_parallel is not None:
            return self.options.max_parallel
        resources = ray.cluster_resources()
        if any(self._gpus(job) > 0 for job in jobs):
            return max(1, 2 * int(resources.get("GPU", 0)))
        return max(1, int(resources.get("CPU", os.cpu_count() or 1)))

    def _finish(
        self, ray: Any, ref: Any, job: ConfigJob, ledger: Any, keep: Keep, placement: Placement
    ) -> None:
        """Store what one finished task gave: its runs, or one failed run saying why not."""
        placement.jobs += 1
        try:
            report: JobReport = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            # genwatt's own code raised in the worker (a configuration's errors are caught
            # there): one failed run, not retried by Ray; infrastructure ones by a resume.
            cause = exc.cause if isinstance(exc.cause, Exception) else exc
            record = job.infra_failed(f"{type(cause).__name__} in the worker: {cause}")
            if failure_kind(cause) is FailureKind.CONFIG:
                record = replace(record, failure_kind=FailureKind.CONFIG)
            keep(job, self._with_attempts(ray, record, job, ledger, died=False))
            return
        except ray.exceptions.OutOfMemoryError as exc:
            # Ray's memory monitor killed the worker: the configuration's need for host
            # memory, not a flaky node; stored as its failure.
            record = replace(
                job.infra_failed(f"OutOfMemoryError (host memory, Ray killed the worker): {exc}"),
                failure_kind=FailureKind.CONFIG,
            )
            keep(job, self._with_attempts(ray, record, job, ledger, died=False))
            return
        except ray.exceptions.RayError as exc:
            placement.infra_failed += 1
            attempts = _ask_ledger(ray, ledger.attempts, job.key)
            tries = "every attempt" if attempts is None else f"each of {attempts} attempts"
            error = (
                f"{INFRA_FAILED}: {type(exc).__name__} on {tries} "
                f"(the worker or its node died): {str(exc).splitlines()[0] if str(exc) else ''}"
            )
            keep(job, self._with_attempts(ray, job.infra_failed(error), job, ledger, died=True))
            return
        placement.nodes.add(report.node_id)
        if report.gpu_uuid:
            placement.gpus.add(report.gpu_uuid)
        placement.retried += 1 if (report.attempt or 1) > 1 else 0
        placement.contaminated += 1 if report.sharing.get("contaminated") else 0
        for record in report.records:
            extra = dict(record.extra) | {RECORD_KEY: report.placement()}
            if report.sharing.get("contaminated"):
                extra["contaminated"] = (
                    "another process used this run's GPU: its energy counter counted both"
                )
            keep(job, replace(record, extra=extra))

    def _with_attempts(
        self, ray: Any, record: RunRecord, job: ConfigJob, ledger: Any, *, died: bool
    ) -> RunRecord:
        attempts = _ask_ledger(ray, ledger.attempts, job.key)
        entry = {"kind": RAY, "attempts": attempts}
        extra = dict(record.extra) | {RECORD_KEY: entry}
        if died:
            extra[INFRA_FAILED] = True
        return replace(record, extra=extra)
