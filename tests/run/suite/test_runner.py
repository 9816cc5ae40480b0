"""The suite runner: one stored run per configuration, resumable, failures recorded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from genwatt.meter.meter import Meter
from genwatt.meter.phases import FORWARD, GENERATION, POSTPROCESS, PREPROCESS, breakdown
from genwatt.models.tasks.protocols import get_protocol
from genwatt.run.suite import runner as runner_module
from genwatt.run.suite.plan import SuiteConfig, plan_suite
from genwatt.run.suite.query import Query
from genwatt.run.suite.runner import SuiteInterrupted, SuiteRunner
from genwatt.store.store import ResultsStore

MODEL = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"


def _queries(config: SuiteConfig, count: int, *, warmup: bool = False) -> Sequence[Query]:
    words = ["the", "film", "was", "good", "and", "the", "story", "was", "long"]
    return [Query(text=" ".join(words[: 3 + i % 6])) for i in range(count)]


def _plan(**kwargs: Any) -> list[SuiteConfig]:
    settings: dict[str, Any] = {
        "tasks": ["text-classification"],
        "models": [MODEL],
        "queries": 12,
        **kwargs,
    }
    return plan_suite(get_protocol("genwatt"), **settings)


def test_one_run_per_configuration_with_phases_that_add_up(
    tmp_path: Path, cpu_meter: Meter, one_torch_thread: None
) -> None:
    plan = _plan(batch_sizes=(1, 4))
    with ResultsStore(tmp_path / "s.db") as store:
        outcome = SuiteRunner(plan, store, suite="s", queries_for=_queries, meter=cpu_meter).run()
        runs = store.runs(sweep="s")
    assert (outcome.ran, outcome.failed) == (2, 0)
    assert [r.config["batch_size"] for r in runs] == [1, 4]
    for run in runs:
        parts = breakdown(run.windows)
        assert set(parts.phases) == {PREPROCESS, FORWARD, POSTPROCESS}
        assert parts.adds_up
        assert run.extra["queries_run"] == 12
        assert run.window(GENERATION).total_energy_j > 0
    # batching runs the same 12 queries in 3 forwards instead of 12
    assert runs[1].window(FORWARD).duration_s < runs[0].window(FORWARD).duration_s


def test_a_second_run_resumes_and_runs_nothing(tmp_path: Path, cpu_meter: Meter) -> None:
    plan = _plan()
    with ResultsStore(tmp_path / "s.db") as store:
        SuiteRunner(plan, store, suite="s", queries_for=_queries, meter=cpu_meter).run()
        again = SuiteRunner(plan, store, suite="s", queries_for=_queries, meter=cpu_meter).run()
        assert (again.ran, again.skipped) == (0, 1)
        assert len(store.runs(sweep="s")) == 1


def test_a_failing_model_is_stored_and_the_suite_goes_on(
    tmp_path: Path, cpu_meter: Meter, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(batch_sizes=(1, 2))
    real = runner_module.build_task_workload
    calls: list[int] = []

    def flaky(config: SuiteConfig, meter: Meter) -> Any:
        calls.append(config.batch_size)
        if len(calls) == 1:
            raise RuntimeError("CUDA out of memory")
        return real(config, meter)

    monkeypatch.setattr(runner_module, "build_task_workload", flaky)
    with ResultsStore(tmp_path / "s.db") as store:
        outcome = SuiteRunner(plan, store, suite="s", queries_for=_queries, meter=cpu_meter).run()
        runs = store.runs(sweep="s")
    assert (outcome.ran, outcome.failed) == (2, 1)
    assert not runs[0].ok and "out of memory" in (runs[0].error or "")
    assert runs[0].extra["failed_in"] == "build"
    assert runs[1].ok


def test_ctrl_c_stores_nothing_for_the_configuration_it_cut(
    tmp_path: Path, cpu_meter: Meter
) -> None:
    plan = _plan(batch_sizes=(1, 2))

    def interrupting(config: SuiteConfig, count: int, *, warmup: bool = False) -> Sequence[Query]:
        if config.batch_size == 2:
            raise KeyboardInterrupt
        return _queries(config, count)

    with ResultsStore(tmp_path / "s.db") as store:
        with pytest.raises(SuiteInterrupted) as stopped:
            SuiteRunner(plan, store, suite="s", queries_for=interrupting, meter=cpu_meter).run()
        assert stopped.value.outcome.ran == 1
        assert [r.config["batch_size"] for r in store.runs(sweep="s")] == [1]
        assert cpu_meter.open_windows == []


class _StopMidway:
    """A progress sink that presses Ctrl-C at the third query of the second config."""

    def __init__(self) -> None:
        self.configs = 0
        self.queries = 0

    def start(self, total: int, done: int) -> None: ...

    def config_started(self, label: str, queries: int) -> None:
        self.configs += 1
        self.queries = 0

    def query_done(self) -> None:
        self.queries += 1
        if self.configs == 2 and self.queries == 3:
            raise KeyboardInterrupt

    def config_done(self, label: str, ok: bool) -> None: ...


def test_ctrl_c_inside_the_pipeline_closes_every_window(tmp_path: Path, cpu_meter: Meter) -> None:
    plan = _plan(batch_sizes=(1, 2))
    with ResultsStore(tmp_path / "s.db") as store:
        runner = SuiteRunner(
            plan, store, suite="s", queries_for=_queries, meter=cpu_meter, progress=_StopMidway()
        )
        with pytest.raises(SuiteInterrupted):
            runner.run()
        assert len(store.runs(sweep="s")) == 1
    assert cpu_meter.open_windows == []


def test_ai_energy_score_runs_every_generating_task_s_tiny_forms(
    tmp_path: Path, one_torch_thread: None
) -> None:
    """The protocol's own lengths (100 tokens for speech and captioning) and guidance do
    not reach a tiny form that cannot take them: every configuration runs."""
    from genwatt.run.suite.execute import run_suite

    tasks = ["automatic-speech-recognition", "image-to-text", "text-to-image"]
    models = ["openai/whisper-tiny", "microsoft/git-base", "stabilityai/sd-turbo"]
    outcome, summary = run_suite(
        protocol="ai-energy-score",
        tasks=tasks,
        models=models,
        store=tmp_path / "s.db",
        queries=1,
    )
    assert (outcome.ran, outcome.failed) == (3, 0), summary
