"""Ctrl-C and infrastructure failures in a sweep: nothing poisoned, nothing lost.

A fake pipeline (one torch Linear as its denoiser, called twice per step, with
``callback_on_step_end``) runs under the real instrumentation and meter, so the hooks'
windows are real while each run takes milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from genwatt.errors import ConcurrentSweepError, WindowError
from genwatt.meter.meter import Meter
from genwatt.run import workload as workload_module
from genwatt.run.failures import failure_kind, interrupted_by_user
from genwatt.run.instrument import GenerationRecord, instrument
from genwatt.run.plan import PlannedConfig
from genwatt.run.runner import SweepInterrupted, SweepOutcome, SweepRunner
from genwatt.run.sweep_spec import parse_spec
from genwatt.store.records import FailureKind, RunRecord
from genwatt.store.store import ResultsStore

SPEC = parse_spec(
    {
        "model": "wan-tiny",
        "grid": {"num_frames": [5, 9], "steps": [1, 2]},
        "height": 32,
        "width": 32,
        "guidance": 5.0,
    }
)
CONFIGS = 4


class FakePipe:
    """A diffusers-like pipeline: cond and uncond forwards per step, then the callback."""

    def __init__(self) -> None:
        self.transformer = torch.nn.Linear(4, 4)

    def __call__(self, steps: int = 1, callback_on_step_end: Any = None) -> torch.Tensor:
        x = torch.zeros(1, 4)
        with torch.no_grad():
            for step in range(steps):
                x = self.transformer(x) + self.transformer(x)
                if callback_on_step_end is not None:
                    callback_on_step_end(self, step, 0, {})
        return x


class FakeWorkload:
    weights_note = "fake pipeline"
    torch_threads = 1
    fault: Callable[[PlannedConfig], None] | None = None  # raises for chosen configs

    def __init__(self, meter: Meter) -> None:
        self.instrumented = instrument(FakePipe(), meter)

    def warm_up(self, config: PlannedConfig) -> None:
        self.instrumented.pipe(steps=1)

    def generate(self, config: PlannedConfig) -> GenerationRecord:
        if FakeWorkload.fault is not None:
            FakeWorkload.fault(config)
        self.instrumented(steps=config.effective["steps"])
        return self.instrumented.last

    def recover(self) -> None:
        pass

    def reset(self) -> None:
        self.instrumented.reset()


@pytest.fixture(autouse=True)
def fake_workload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FakeWorkload, "fault", None)
    monkeypatch.setattr(
        workload_module, "build_workload", lambda spec, first, meter: FakeWorkload(meter)
    )


def _runner(store: ResultsStore, meter: Meter) -> SweepRunner:
    return SweepRunner(SPEC, store, sweep="s", meter=meter)


def _interrupt_once(meter: Meter, monkeypatch: pytest.MonkeyPatch, prefix: str, after: bool):
    """Make ``meter.begin`` raise KeyboardInterrupt once, for the second window named
    ``prefix...``: before opening it, or after (open, but its caller never learns)."""
    real_begin = meter.begin
    seen = {"n": 0}

    def begin(name: str):
        if name.startswith(prefix):
            seen["n"] += 1
            if seen["n"] == 2:
                if after:
                    real_begin(name)
                raise KeyboardInterrupt
        return real_begin(name)

    monkeypatch.setattr(meter, "begin", begin)
    return lambda: monkeypatch.setattr(meter, "begin", real_begin)


@pytest.mark.parametrize("prefix", ["forward:", "step:"])
@pytest.mark.parametrize("after", [False, True], ids=["before-open", "after-open"])
def test_ctrl_c_in_a_hook_stops_the_sweep_and_poisons_nothing(
    tmp_path: Path, cpu_meter: Meter, monkeypatch: pytest.MonkeyPatch, prefix: str, after: bool
) -> None:
    restore = _interrupt_once(cpu_meter, monkeypatch, prefix, after)
    with ResultsStore(tmp_path / "s.db") as store:
        with pytest.raises(SweepInterrupted) as info:
            _runner(store, cpu_meter).run()
        assert isinstance(info.value, KeyboardInterrupt)
        stored = info.value.outcome.ran
        assert store.count(sweep="s") == stored < CONFIGS
        assert store.count(status="failed") == 0  # the interrupted run is not a failure
        restore()
        # Same meter, new runner: no window of the interrupted run is still open.
        resumed = _runner(store, cpu_meter).run()
        assert (resumed.ran, resumed.failed, resumed.skipped) == (CONFIGS - stored, 0, stored)
        runs = store.runs(sweep="s")
    assert len({r.config_key for r in runs}) == CONFIGS and all(r.ok for r in runs)


def _fail_one_config(
    store: ResultsStore, meter: Meter, steps: int, frames: int, error: Exception
) -> tuple[SweepOutcome, RunRecord]:
    """Run the sweep with ``error`` raised by the generation of one config: the outcome,
    and the one failed run stored."""

    def fault(config: PlannedConfig) -> None:
        if config.effective["steps"] == steps and config.effective["num_frames"] == frames:
            raise error

    FakeWorkload.fault = fault
    outcome = _runner(store, meter).run()
    (failed,) = store.runs(status="failed")
    return outcome, failed


def test_an_infrastructure_failure_is_retried_on_resume(tmp_path: Path, cpu_meter: Meter) -> None:
    error = WindowError("a window named 'step:1' is already open; end it first")
    with ResultsStore(tmp_path / "s.db") as store:
        first, failed = _fail_one_config(store, cpu_meter, 2, 9, error)
        assert (first.ran, first.failed, first.retryable) == (CONFIGS, 1, 1)
        assert failed.failure_kind == FailureKind.INFRASTRUCTURE and failed.retryable
        FakeWorkload.fault = None
        resumed = _runner(store, cpu_meter).run()
        assert (resumed.ran, resumed.skipped, resumed.failed) == (1, CONFIGS - 1, 0)
        runs = store.runs(sweep="s")
    assert len(runs) == CONFIGS and all(r.ok for r in runs)
    retried = next(r for r in runs if r.config_key == failed.config_key)
    assert retried.repeat == failed.repeat
    assert "already open" in retried.extra["earlier_attempts"][0]["error"]


def test_a_genuine_failure_stays_failed_and_is_skipped(tmp_path: Path, cpu_meter: Meter) -> None:
    error = RuntimeError("CUDA out of memory (simulated)")
    with ResultsStore(tmp_path / "s.db") as store:
        first, failed = _fail_one_config(store, cpu_meter, 1, 5, error)
        assert (first.ran, first.failed, first.retryable) == (CONFIGS, 1, 0)
        assert failed.failure_kind == FailureKind.CONFIG and not failed.retryable
        again = _runner(store, cpu_meter).run()
    assert (again.ran, again.skipped) == (0, CONFIGS)


def test_a_failing_warm_up_is_recorded_not_raised(tmp_path: Path, cpu_meter: Meter) -> None:
    def explode(self: FakeWorkload, config: PlannedConfig) -> None:
        raise RuntimeError("warm-up out of memory (simulated)")

    spec = SPEC.model_copy(update={"warmup": 1})
    with pytest.MonkeyPatch.context() as patch, ResultsStore(tmp_path / "s.db") as store:
        patch.setattr(FakeWorkload, "warm_up", explode)
        outcome = SweepRunner(spec, store, sweep="w", meter=cpu_meter).run()
        failed = store.runs(status="failed")
    assert outcome.failed == outcome.ran == CONFIGS
    assert failed[0].extra["failed_in"] == "warm-up"


def test_a_second_process_on_the_same_sweep_gets_a_cli_hint(
    tmp_path: Path, cpu_meter: Meter, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ResultsStore(tmp_path / "s.db") as store:
        _runner(store, cpu_meter).run()
        # What a second process sees: it planned before the first one stored the runs.
        monkeypatch.setattr(store, "completed", lambda sweep: set())
        with pytest.raises(ConcurrentSweepError) as info:
            _runner(store, cpu_meter).run()
    message = str(info.value)
    assert "another process is running sweep 's'" in message
    assert "rerun this command to resume" in message and "--store" in message
    assert "completed(" not in message and "\n" not in message


def test_an_error_raised_while_ctrl_c_propagates_is_the_interrupt() -> None:
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise WindowError("no open window named 'forward:0'") from None
    except WindowError as exc:
        assert interrupted_by_user(exc)
    assert not interrupted_by_user(RuntimeError("out of memory"))


def test_failure_kinds() -> None:
    from genwatt.errors import ConfigError, SourceReadError

    assert failure_kind(SourceReadError("NVML lost the GPU")) == FailureKind.INFRASTRUCTURE
    assert failure_kind(ConfigError("height must be a multiple of 16")) == FailureKind.CONFIG
    assert failure_kind(RuntimeError("CUDA out of memory")) == FailureKind.CONFIG
