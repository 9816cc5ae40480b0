"""``run_suite``: plan, run (or resume) and summarise a suite; what ``genwatt suite`` calls.

The suite id names what was asked (protocol, weights, device, precision, data), so
running the same command again resumes it, and a run with other settings starts its
own. Queries come from the built-in offline workload of each task
(``genwatt.run.suite.inputs``) or from the user's ``--data``
(``genwatt.run.suite.user_data``), read once per task.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from genwatt.carbon.setting import CarbonSetting
from genwatt.meter.meter import Meter
from genwatt.models.tasks.protocols import get_protocol
from genwatt.run.executor import Executor
from genwatt.run.suite.config_measurement import SuiteProgress
from genwatt.run.suite.plan import SuiteConfig, plan_suite
from genwatt.run.suite.query import Query
from genwatt.run.suite.runner import SuiteOutcome, SuiteRunner
from genwatt.store.store import ResultsStore

# Warm-up queries come from another seed than the measured ones.
WARMUP_SEED_OFFSET = 1_000_003
# Miniatures gain nothing from intra-op threads on a small CPU (see run.workload).
TINY_CPU_THREADS = 1


def suite_id(
    protocol: str, weights: str, device: str, dtype: str | None, data: str | None, name: str | None
) -> str:
    """The store's id for a suite: the user's ``name``, else what was asked."""
    if name:
        return name
    return ":".join(("suite", protocol, weights, device, dtype or "auto", data or "builtin"))


class QuerySource:
    """Each task's queries, made or read once and shared by every model of the task."""

    def __init__(self, data: str | None, seed: int) -> None:
        self.data = data
        self.seed = seed

    @cache  # noqa: B019 - one source per suite run; it lives as long as the run
    def _queries(self, task: str, count: int, seed: int, protocol: str) -> Sequence[Query]:
        if self.data is None:
            from genwatt.run.suite.inputs import builtin_queries

            # Lazy: each query's image or audio is made when the pipeline reaches it;
            # sized like the datasets the protocol draws the task's queries from.
            return builtin_queries(task, count, seed, protocol)
        from genwatt.run.suite.user_data import load_user_queries

        return load_user_queries(task, self.data, count, seed)

    def __call__(self, config: SuiteConfig, count: int, *, warmup: bool = False) -> Sequence[Query]:
        task, protocol = config.task.name, config.protocol
        if warmup:
            if self.data is not None:  # the user's own queries warm up on their first ones
                return self._queries(task, config.queries, self.seed, protocol)[:count]
            return self._queries(task, count, self.seed + WARMUP_SEED_OFFSET, protocol)
        return self._queries(task, count, self.seed, protocol)


def run_suite(
    *,
    protocol: str = "genwatt",
    tasks: list[str] | None = None,
    models: list[str] | None = None,
    batch_sizes: tuple[int, ...] | None = None,
    weights: str = "tiny",
    device: str = "cpu",
    dtype: str | None = None,
    queries: int | None = None,
    new_tokens: int | None = None,
    steps: int | None = None,
    data: str | None = None,
    seed: int = 0,
    store: Path | None = None,
    name: str | None = None,
    carbon: CarbonSetting | None = None,
    idle_s: float = 0.0,
    progress: SuiteProgress | None = None,
    meter: Meter | None = None,
    executor: Executor | None = None,
) -> tuple[SuiteOutcome, dict[str, Any]]:
    """Run what the store lacks of the suite; return what ran and the suite's summary."""
    from genwatt.run.suite.summary import suite_summary

    chosen = get_protocol(protocol)
    plan = plan_suite(
        chosen,
        tasks=tasks,
        models=models,
        batch_sizes=batch_sizes,
        weights=weights,
        device=device,
        dtype=dtype,
        queries=queries,
        new_tokens=new_tokens,
        steps=steps,
        data=data,
        seed=seed,
    )
    sid = suite_id(protocol, weights, device, dtype, data, name)
    queries = QuerySource(data, seed)
    if data is not None and plan:
        # The user's file is read now, once (the source keeps it): a missing or malformed
        # file is one clear error before any model is built, not a failed configuration.
        queries(plan[0], plan[0].queries)
    if weights == "tiny" and device == "cpu":
        import torch

        torch.set_num_threads(TINY_CPU_THREADS)
    with ResultsStore(store) as results:
        runner = SuiteRunner(
            plan,
            results,
            suite=sid,
            queries_for=queries,
            meter=meter,
            progress=progress,
            carbon=carbon,
            idle_s=idle_s,
            executor=executor,
        )
        outcome = runner.run()
        keys = {c.key for c in plan}
        runs = [r for r in results.runs(sweep=sid) if r.config_key in keys]
    return outcome, suite_summary(runs, protocol)
