"""genwatt's adaptive step cache: exact on a toy denoiser, skips real work on WAN."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from diffusers.hooks.hooks import CacheContext, _set_cache_context

from genwatt.errors import ConfigError
from genwatt.mitigate.adaptive_cache import (
    HOOK_NAME,
    AdaptiveSettings,
    AdaptiveStepCache,
    attached,
)
from genwatt.mitigate.strategy import Strategy, run_pipeline

STEPS = 8  # as in conftest.py
PROMPT = "a red circle moves left"
#: conftest.py's ``counted`` fixture: (pipe, strategy, call) -> (clip, denoising FLOPs).
Counted = Callable[..., tuple[np.ndarray, int]]


class ShiftDenoiser(torch.nn.Module):
    """``output = input + shift``: a constant residual, which the cache reproduces."""

    def __init__(self, shift: torch.Tensor) -> None:
        super().__init__()
        self.shift = shift
        self.calls = 0

    def forward(self, hidden_states: torch.Tensor, **_: Any) -> Any:
        self.calls += 1
        return (hidden_states + self.shift,)


class FixedNoiseDenoiser(torch.nn.Module):
    """A flow denoiser that always sees the same noise ``e``: ``v = (e - x) / (1 - sigma)``."""

    def __init__(self, noise: torch.Tensor) -> None:
        super().__init__()
        self.noise = noise

    def forward(self, hidden_states: torch.Tensor, timestep: float, **_: Any) -> Any:
        return ((self.noise - hidden_states) / (1 - timestep),)


def sigmas(n: int) -> list[float]:
    return [0.9 * (1 - i / n) for i in range(n)]


def drive(module: torch.nn.Module, inputs: list[torch.Tensor], branch: str = "cond") -> list:
    """Call ``module`` as a denoising loop does: one cache context per step."""
    outs = []
    for i, (x, sigma) in enumerate(zip(inputs, sigmas(len(inputs)), strict=True)):
        context = CacheContext(branch, step_index=i, sigma=sigma, num_inference_steps=len(inputs))
        _set_cache_context(module, context)
        outs.append(module(hidden_states=x, timestep=sigma)[0])
    _set_cache_context(module, None)
    return outs


def test_a_constant_residual_is_reproduced_exactly_while_skipping() -> None:
    shift = torch.full((2, 3), 0.5)
    module = ShiftDenoiser(shift)
    inputs = [torch.full((2, 3), 1.0 - 0.1 * i) for i in range(10)]
    settings = AdaptiveSettings(threshold=10.0, warmup=2, final=1, max_skips=3, target="residual")
    with attached(module, settings) as hook:
        outs = drive(module, inputs)
    for x, out in zip(inputs, outs, strict=True):
        torch.testing.assert_close(out, x + shift)
    # steps 0, 1 warm up; then 3 skips, 1 full, 3 skips, and the final step runs.
    assert module.calls == 2 + 1 + 1 == hook.tally["cond:computed"]
    assert hook.tally["cond:skipped"] == 6
    assert not hasattr(module, "_diffusers_hook") and "forward" not in vars(module)


def test_the_noise_target_keeps_the_noise_estimate() -> None:
    noise = torch.tensor([0.3, -1.2, 0.8])
    module = FixedNoiseDenoiser(noise)
    inputs = [torch.full((3,), 2.0 - 0.2 * i) for i in range(8)]
    with attached(module, AdaptiveSettings(threshold=10.0, warmup=2)) as hook:
        outs = drive(module, inputs)
    assert hook.tally["cond:skipped"] == 6
    for x, sigma, out in zip(inputs, sigmas(8), outs, strict=True):
        torch.testing.assert_close(out, (noise - x) / (1 - sigma))
    plain = AdaptiveSettings(threshold=10.0, warmup=2, extrapolation=0.0, target="output")
    with attached(module, plain):
        reused = drive(module, inputs)
    assert not torch.allclose(reused[-1], outs[-1])  # reusing the velocity is not exact here


def test_extrapolation_follows_a_linear_trend() -> None:
    """``output = 3 * input`` with inputs linear in sigma: the output is linear in sigma."""

    class Triple(torch.nn.Module):
        def forward(self, hidden_states: torch.Tensor, **_: Any) -> Any:
            return (3 * hidden_states,)

    module = Triple()
    inputs = [torch.full((4,), s) for s in sigmas(6)]
    linear = AdaptiveSettings(threshold=10.0, warmup=2, extrapolation=1.0, target="output")
    with attached(module, linear):
        outs = drive(module, inputs)
    for x, out in zip(inputs, outs, strict=True):
        torch.testing.assert_close(out, 3 * x)
    plain = AdaptiveSettings(threshold=10.0, warmup=2, extrapolation=0.0, target="output")
    with attached(module, plain):
        reused = drive(module, inputs)
    assert not torch.allclose(reused[-1], 3 * inputs[-1])  # reuse alone lags behind


def interleaved(module: torch.nn.Module, cond: list, uncond: list) -> tuple[list, list]:
    """Both branches per step, conditional first, as ``WanPipeline`` calls them."""
    outs: dict[str, list] = {"cond": [], "uncond": []}
    n = len(cond)
    for i, sigma in enumerate(sigmas(n)):
        for branch, x in (("cond", cond[i]), ("uncond", uncond[i])):
            context = CacheContext(branch, step_index=i, sigma=sigma, num_inference_steps=n)
            _set_cache_context(module, context)
            outs[branch].append(module(hidden_states=x)[0])
    _set_cache_context(module, None)
    return outs["cond"], outs["uncond"]


SLOW = [torch.full((3,), 1.0 - 0.1 * i) for i in range(8)]  # small relative change per step
FAST = [torch.full((3,), 3.0**i) for i in range(8)]  # large relative change


@pytest.mark.parametrize("lockstep", [False, True])
def test_branches_keep_their_own_history(lockstep: bool) -> None:
    settings = AdaptiveSettings(
        threshold=0.5, warmup=2, max_skips=8, lockstep=lockstep, target="residual", measure="output"
    )
    module = ShiftDenoiser(torch.ones(3))
    with attached(module, settings) as hook:
        alone = drive(module, SLOW, "cond")
        cond, uncond = interleaved(module, SLOW, FAST)
    assert all(torch.equal(x, y) for x, y in zip(alone, cond, strict=True))
    for x, out in zip(FAST, uncond, strict=True):
        torch.testing.assert_close(out, x + 1)  # exact: each branch uses its own residual
    cond_skips = hook.tally["cond:skipped"] // 2
    assert cond_skips == 6
    if lockstep:  # the first branch of a step decides for both
        assert hook.tally["uncond:skipped"] == cond_skips
    else:  # the fast branch's own test keeps it running
        assert hook.tally["uncond:skipped"] == 0


def test_outside_a_denoising_loop_every_call_runs() -> None:
    module = ShiftDenoiser(torch.ones(2))
    with attached(module, AdaptiveSettings(threshold=10.0)) as hook:
        for _ in range(3):
            module(hidden_states=torch.zeros(2))
        _set_cache_context(module, CacheContext("cond"))  # no step, sigma or step count
        for _ in range(3):
            module(hidden_states=torch.zeros(2))
        _set_cache_context(module, None)
    assert module.calls == 6 and not hook.tally


def test_settings_are_validated() -> None:
    for bad in (
        {"threshold": -0.1},
        {"warmup": 1},
        {"max_skips": -1},
        {"extrapolation": 2},
        {"target": "velocity"},
        {"measure": "noise"},
    ):
        with pytest.raises(ConfigError):
            AdaptiveSettings(**bad)
    module = ShiftDenoiser(torch.ones(1))
    with (
        attached(module, AdaptiveSettings()),
        pytest.raises(ConfigError, match="already"),
        attached(module, AdaptiveSettings()),
    ):
        pass
    assert not hasattr(module, "_diffusers_hook")


def test_threshold_zero_skips_nothing(
    pipe: Any, call: dict, baseline: tuple, counted: Counted
) -> None:
    strategy = AdaptiveStepCache(0.0)
    assert strategy.name == "genwatt-adaptive-0" and strategy.kind == "cache"
    with strategy.applied(pipe, call=call, calibration=[]):
        out, flops = counted(pipe, strategy, call)
    assert flops == baseline[1]
    np.testing.assert_array_equal(out, baseline[0])
    assert strategy.tally == {"cond:computed": STEPS, "uncond:computed": STEPS}


def test_more_threshold_skips_more_wan_compute(
    pipe: Any, call: dict, baseline: tuple, counted: Counted
) -> None:
    flops, skipped = [], []
    for threshold in (0.0, 0.5, 2.0):
        strategy = AdaptiveStepCache(threshold)
        with strategy.applied(pipe, call=call, calibration=[]):
            out, f = counted(pipe, strategy, call)
        assert out.shape == baseline[0].shape and np.isfinite(out).all()
        flops.append(f)
        skipped.append(strategy.tally["cond:skipped"] + strategy.tally["uncond:skipped"])
    assert skipped[0] == 0 < skipped[1] < skipped[2]
    assert baseline[1] == flops[0] > flops[1] > flops[2]
    # a skipped call runs no transformer FLOPs at all
    per_call = baseline[1] / (2 * STEPS)
    assert flops[2] == pytest.approx(baseline[1] - skipped[2] * per_call, rel=1e-6)


def test_the_pipeline_is_left_as_it_was(
    pipe: Any, call: dict, baseline: tuple, counted: Counted
) -> None:
    before = {n: sorted(vars(m)) for n, m in pipe.transformer.named_modules()}
    hooks_before = list(pipe.transformer._diffusers_hook._hook_order)

    def fail(_pipe: Any, step: int, _t: Any, _kwargs: Any) -> dict[str, Any]:
        if step == STEPS - 2:
            raise RuntimeError("boom")
        return {}

    strategy = AdaptiveStepCache(2.0)
    with (
        pytest.raises(RuntimeError, match="boom"),
        strategy.applied(pipe, call=call, calibration=[]),
    ):
        run_pipeline(pipe, PROMPT, seed=0, call={**call, "callback_on_step_end": fail})
    assert strategy.tally["cond:skipped"] > 0
    assert {n: sorted(vars(m)) for n, m in pipe.transformer.named_modules()} == before
    assert pipe.transformer._diffusers_hook._hook_order == hooks_before
    out, flops = counted(pipe, Strategy(), call)
    assert flops == baseline[1]
    np.testing.assert_array_equal(out, baseline[0])


def test_the_name_shows_settings_that_differ_from_the_default() -> None:
    assert AdaptiveStepCache(0.3).name == "genwatt-adaptive-0.3"
    assert AdaptiveStepCache(0.3, extrapolation=0.5).name == "genwatt-adaptive-0.3-extrapolate-0.5"
    assert (
        AdaptiveStepCache(0.45, extrapolation=0.5, max_skips=4).name
        == "genwatt-adaptive-0.45-extrapolate-0.5-max-skips-4"
    )
    assert AdaptiveStepCache(0.45, max_skips=4).name == "genwatt-adaptive-0.45-max-skips-4"
    variants = [
        AdaptiveStepCache(0.3, warmup=5),
        AdaptiveStepCache(0.3, final=2),
        AdaptiveStepCache(0.3, max_skips=4),
        AdaptiveStepCache(0.3, lockstep=False),
        AdaptiveStepCache(0.3, target="output"),
        AdaptiveStepCache(0.3, measure="output"),
        AdaptiveStepCache(0.3, correct_skipped=True),
        AdaptiveStepCache(0.3, correct_runs=False),
    ]
    names = [v.name for v in variants]
    assert len(set(names)) == len(names) and "genwatt-adaptive-0.3" not in names


def test_skipped_calls_are_not_counted_as_transformer_calls(pipe, call) -> None:
    from genwatt.mitigate.comparison.work import count_denoising

    strategy = AdaptiveStepCache(10.0)
    with strategy.applied(pipe, call=call, calibration=()), count_denoising(pipe) as work:
        strategy.generate(pipe, PROMPT, seed=0, call=call)
    computed = sum(v for k, v in strategy.tally.items() if k.endswith(":computed"))
    assert sum(v for k, v in strategy.tally.items() if k.endswith(":skipped")) > 0
    assert work.calls == computed


@pytest.mark.parametrize("correct_skipped", [False, True])
def test_the_corrector_skips_predicted_outputs_unless_asked(
    pipe: Any, call: dict, correct_skipped: bool
) -> None:
    """UniPC corrects step i - 1 with step i's output; a skipped step's output is a guess."""
    scheduler = pipe.scheduler
    configured = scheduler.disable_corrector
    corrected_with: list[int] = []
    original = scheduler.multistep_uni_c_bh_update

    def spy(*args: Any, **kwargs: Any) -> Any:
        corrected_with.append(scheduler.step_index)
        return original(*args, **kwargs)

    skipped: set[int] = set()

    def snapshot(_pipe: Any, _step: int, _t: Any, _kwargs: Any) -> dict[str, Any]:
        # the pipeline resets the hook's state when it finishes: look while it runs
        skipped.update(pipe.transformer._diffusers_hook.get_hook(HOOK_NAME).skipped_steps)
        return {}

    strategy = AdaptiveStepCache(10.0, correct_skipped=correct_skipped)
    scheduler.multistep_uni_c_bh_update = spy
    try:
        with strategy.applied(pipe, call=call, calibration=()):
            strategy.generate(pipe, PROMPT, seed=0, call={**call, "callback_on_step_end": snapshot})
    finally:
        del scheduler.multistep_uni_c_bh_update
    assert scheduler.disable_corrector is configured
    assert skipped and 0 not in skipped
    computed = set(range(1, STEPS)) - skipped  # step 0 has nothing to correct
    assert set(corrected_with) == (set(range(1, STEPS)) if correct_skipped else computed)
    assert strategy.name.endswith("-correct-skipped") == correct_skipped
