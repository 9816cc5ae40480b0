"""The sweep runner: plan checks, failures recorded, resume after SIGKILL with no duplicate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genwatt.errors import ConfigError
from genwatt.run.config_repeats import ci95_halfwidth_pct, needs_another_repeat
from genwatt.run.plan import plan_sweep
from genwatt.run.sweep_report import run_sweep
from genwatt.run.sweep_spec import parse_spec
from genwatt.store.store import ResultsStore

SMALL = {
    "model": "wan-tiny",
    "grid": {"num_frames": [5, 9], "steps": [1, 2]},
    "height": 32,
    "width": 32,
    "guidance": 5.0,
}


def test_plan_has_deterministic_keys_and_rounds_wan_frames() -> None:
    spec = parse_spec({**SMALL, "grid": {"num_frames": [6, 9], "steps": [1]}})
    first, second = plan_sweep(spec), plan_sweep(spec)
    assert [c.key for c in first] == [c.key for c in second]
    assert len({c.key for c in first}) == 2
    rounded = next(c for c in first if c.requested["num_frames"] == 6)
    assert rounded.effective["num_frames"] == 5  # 6 // 4 * 4 + 1, as WanPipeline rounds
    assert rounded.notes


def test_plan_rejects_impossible_sizes_before_running() -> None:
    spec = parse_spec({**SMALL, "grid": {"height": [32, 33]}})
    with pytest.raises(ConfigError, match="nothing was run") as info:
        plan_sweep(spec)
    assert "height=33" in str(info.value)


def test_plan_covers_prompts_and_seeds_and_shuffles_reproducibly() -> None:
    spec = parse_spec({**SMALL, "prompts": ["a", "b"], "seeds": [0, 1], "shuffle": True})
    plan = plan_sweep(spec)
    assert len(plan) == 4 * 2 * 2
    assert [c.key for c in plan] == [c.key for c in plan_sweep(spec)]
    assert [c.key for c in plan] != sorted(c.key for c in plan) or len(plan) < 3


def test_adaptive_repeat_rule() -> None:
    spec = parse_spec(
        {"model": "m", "adaptive": {"target_ci_pct": 5, "min_repeats": 3, "max_repeats": 6}}
    )
    assert needs_another_repeat([1.0, 1.0], 2, spec)  # below the minimum
    assert not needs_another_repeat([1.0, 1.01, 0.99], 3, spec)  # tight enough
    assert needs_another_repeat([1.0, 2.0, 0.5], 3, spec)  # too noisy
    assert not needs_another_repeat([1.0, 2.0, 0.5, 3.0, 0.1, 2.0], 6, spec)  # capped
    assert ci95_halfwidth_pct([2.0, 2.0, 2.0]) == 0.0


@pytest.mark.slow
def test_a_failing_config_is_recorded_and_the_sweep_goes_on(tmp_path: Path, monkeypatch) -> None:
    from genwatt.run import workload

    real_generate = workload.DiffusionWorkload.generate

    def flaky(self, config):
        if config.effective["num_frames"] == 9 and config.effective["steps"] == 1:
            raise RuntimeError("CUDA out of memory (simulated)")
        return real_generate(self, config)

    monkeypatch.setattr(workload.DiffusionWorkload, "generate", flaky)
    store = tmp_path / "s.db"
    report = run_sweep(parse_spec(SMALL), store=store, sweep="flaky")
    assert report.outcome.ran == 4 and report.outcome.failed == 1
    with ResultsStore(store) as results:
        failed = results.runs(sweep="flaky", status="failed")
        assert len(failed) == 1
        assert "out of memory" in failed[0].error
        assert failed[0].config["num_frames"] == 9
        assert len(results.runs(sweep="flaky", status="ok")) == 3
    # resuming does not retry what is stored, failed runs included
    again = run_sweep(parse_spec(SMALL), store=store, sweep="flaky")
    assert again.outcome.ran == 0 and again.outcome.skipped == 4


@pytest.mark.slow
def test_sigkilled_sweep_resumes_to_the_full_set_without_duplicates(tmp_path: Path) -> None:
    spec_path = tmp_path / "sweep.yaml"
    spec_path.write_text(
        "name: killme\nmodel: wan-tiny\nheight: 32\nwidth: 32\nguidance: 5.0\n"
        "grid: {num_frames: [5, 9], steps: [1, 2, 3]}\nrepeats: 2\n"
    )
    store = tmp_path / "kill.db"
    command = [
        sys.executable,
        "-m",
        "genwatt.cli.app",
        "sweep",
        str(spec_path),
        "--store",
        str(store),
        "--json",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and stored < 3:
        time.sleep(0.05)
        if store.exists():
            with ResultsStore(store) as results:
                stored = results.count(sweep="killme")
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert 3 <= stored < 12, "the sweep must be killed part-way"
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    with ResultsStore(store) as results:
        runs = results.runs(sweep="killme")
    keys = [(r.config_key, r.repeat) for r in runs]
    assert len(runs) == 12 and len(set(keys)) == 12  # 6 configs x 2 repeats, no duplicate
    assert all(r.ok for r in runs)
