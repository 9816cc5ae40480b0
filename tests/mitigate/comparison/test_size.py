"""The quick and full comparisons, and the estimate shown before one starts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from genwatt.errors import ConfigError
from genwatt.mitigate.comparison.compare import Case
from genwatt.mitigate.comparison.size import (
    FULL_PROMPTS,
    FULL_STRATEGIES,
    QUICK_PROMPTS,
    RunEstimate,
    estimate_run,
    planned_runs,
    quick_strategies,
)
from genwatt.mitigate.strategy import Strategy


class _Once(Strategy):
    name, kind, repeatable = "once", "reuse", False


class _Pipe:
    """A denoiser called once per step, and a clip out."""

    def __init__(self) -> None:
        self.transformer = torch.nn.Linear(4, 4)
        self.clips = 0

    def __call__(self, prompt: str, *, generator: Any, output_type: str, **call: Any) -> Any:
        self.clips += 1
        x = torch.rand(1, 4, generator=generator)
        with torch.no_grad():
            for _ in range(call["num_inference_steps"]):
                x = self.transformer(x)
        return ([np.zeros((2, 4, 4, 3), dtype=np.float32)],)


def test_quick_is_smaller_than_full() -> None:
    assert QUICK_PROMPTS < FULL_PROMPTS and FULL_STRATEGIES == "all"
    guided = quick_strategies({"guidance_scale": 5.0}).split(",")
    assert guided == ["fewer-steps", "no-guidance", "magcache", "genwatt-adaptive-3x"]
    # Without guidance there is no unconditional pass to drop.
    assert "no-guidance" not in quick_strategies({"guidance_scale": 1.0})


def test_planned_runs_count_the_second_timed_pass_only_where_it_happens() -> None:
    strategies = [Strategy(), Strategy(), _Once()]
    assert planned_runs(strategies, 3, "separate") == (3 * 4, 3 * 3)  # baseline + 2 repeat
    assert planned_runs(strategies, 3, "instrumented") == (12, 0)
    with pytest.raises(ConfigError, match="timing must be one of"):
        planned_runs(strategies, 3, "sometimes")


def test_the_estimate_scales_a_timed_warm_up_clip() -> None:
    pipe = _Pipe()
    estimate = estimate_run(
        pipe, [Strategy(), _Once()], [Case("a", 0), Case("b", 1)], call={"num_inference_steps": 5}
    )
    assert pipe.clips == 2  # one counted, one plain: nothing more before the comparison
    assert (estimate.counted_clips, estimate.timed_clips, estimate.clips) == (6, 4, 10)
    assert estimate.calls_per_clip == 5
    assert estimate.counted_clip_s > 0 and estimate.timed_clip_s > 0
    expected = 6 * estimate.counted_clip_s + 4 * estimate.timed_clip_s
    assert estimate.duration_s == pytest.approx(expected)
    with pytest.raises(ConfigError, match="at least one"):
        estimate_run(pipe, [], [], call={"num_inference_steps": 5})


@pytest.mark.parametrize(
    ("counted_s", "words"),
    [(0.01, "about 5 s"), (0.9, "about 15 s"), (5.0, "about 1 min"), (30.0, "about 8 min")],
)
def test_the_estimate_reads_in_seconds_then_minutes(counted_s: float, words: str) -> None:
    estimate = RunEstimate(12, 6, 60, counted_s, counted_s / 2)
    line = estimate.describe()
    assert line.startswith(f"{words} on this machine: 18 clips of up to 60 denoiser calls")
