"""The skip-run correction: exact for Euler on a linear noise estimate, a gain for UniPC."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import FlowMatchEulerDiscreteScheduler, UniPCMultistepScheduler
from diffusers.hooks.hooks import CacheContext, _set_cache_context

from genwatt.mitigate.adaptive_cache import AdaptiveStepCache
from genwatt.mitigate.run_correction import shift_coefficient
from genwatt.mitigate.strategy import run_pipeline

STEPS = 10  # warmup 2, then 3 skipped and 1 full, twice: the last step runs
SIGMAS = np.linspace(0.9, 0.1, STEPS)
PROMPT = "a red circle moves left"


class LinearNoiseDenoiser(torch.nn.Module):
    """A flow denoiser whose noise estimate ``e0 + sigma * e1`` ignores the sample."""

    def __init__(self) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.e0 = torch.randn(2, 3, generator=generator)
        self.e1 = torch.randn(2, 3, generator=generator)

    def forward(self, hidden_states: torch.Tensor, timestep: float, **_: Any) -> Any:
        noise = self.e0 + timestep * self.e1
        return ((noise - hidden_states) / (1 - timestep),)


def euler() -> FlowMatchEulerDiscreteScheduler:
    scheduler = FlowMatchEulerDiscreteScheduler()
    scheduler.set_timesteps(sigmas=SIGMAS)
    return scheduler


def unipc() -> UniPCMultistepScheduler:
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=1.0
    )
    scheduler.set_timesteps(STEPS)
    return scheduler


def sample(scheduler: Any, strategy: AdaptiveStepCache | None) -> torch.Tensor:
    """Run a one-branch denoising loop as ``WanPipeline`` does, with or without the cache."""
    module = LinearNoiseDenoiser()
    pipe = SimpleNamespace(transformer=module, scheduler=scheduler)
    x = torch.ones(2, 3)

    def loop() -> torch.Tensor:
        latents = x
        for i, t in enumerate(scheduler.timesteps):
            sigma = float(scheduler.sigmas[i])
            context = CacheContext("cond", step_index=i, sigma=sigma, num_inference_steps=STEPS)
            _set_cache_context(module, context)
            out = module(hidden_states=latents, timestep=sigma)[0]
            latents = scheduler.step(out, t, latents, return_dict=False)[0]
        _set_cache_context(module, None)
        return latents

    if strategy is None:
        return loop()
    with strategy.applied(pipe, call={}, calibration=()):
        return loop()


def cache(correct_runs: bool) -> AdaptiveStepCache:
    # a huge threshold skips as often as max_skips allows: steps 2-4 and 6-8
    return AdaptiveStepCache(1e9, warmup=2, max_skips=3, correct_runs=correct_runs)


def test_no_skipped_step_before_the_target_means_no_shift() -> None:
    sigmas = dict(enumerate([0.9, 0.8, 0.7, 0.6]))
    assert shift_coefficient(sigmas, 0, 1, 1) == 0.0
    assert shift_coefficient(sigmas, 0, 2, 1) == 0.0
    assert shift_coefficient(sigmas, 0, 2, 2) != 0.0
    assert shift_coefficient({0: 0.5, 1: 0.5, 2: 0.5}, 0, 2, 2) == 0.0  # no sigma span


def test_euler_on_a_linear_noise_estimate_is_corrected_exactly() -> None:
    exact = sample(euler(), None)
    frozen = sample(euler(), cache(correct_runs=False))
    corrected = sample(euler(), cache(correct_runs=True))
    assert not torch.allclose(frozen, exact, atol=1e-3)
    torch.testing.assert_close(corrected, exact, atol=1e-5, rtol=1e-5)


def test_unipc_comes_closer_to_the_uncached_sample() -> None:
    exact = sample(unipc(), None)
    frozen_error = float((sample(unipc(), cache(correct_runs=False)) - exact).norm())
    corrected_error = float((sample(unipc(), cache(correct_runs=True)) - exact).norm())
    assert frozen_error > 1e-3
    assert corrected_error < 0.7 * frozen_error


def test_the_scheduler_step_is_restored_even_on_error() -> None:
    scheduler = euler()
    pipe = SimpleNamespace(transformer=LinearNoiseDenoiser(), scheduler=scheduler)
    with (
        pytest.raises(RuntimeError, match="boom"),
        cache(True).applied(pipe, call={}, calibration=()),
    ):
        assert "step" in vars(scheduler)
        raise RuntimeError("boom")
    assert "step" not in vars(scheduler)


def test_on_wan_the_run_correction_changes_the_clip_and_keeps_the_calls(
    pipe: Any, call: dict
) -> None:
    uncached = run_pipeline(pipe, PROMPT, seed=0, call=call)
    clips, computed = [], []
    for correct_runs in (False, True):
        strategy = AdaptiveStepCache(10.0, max_skips=2, correct_runs=correct_runs)
        with strategy.applied(pipe, call=call, calibration=()):
            clips.append(strategy.generate(pipe, PROMPT, seed=0, call=call))
        computed.append(sum(v for k, v in strategy.tally.items() if k.endswith(":computed")))
    assert computed[0] == computed[1]
    assert not np.array_equal(clips[0], clips[1])
    assert "step" not in vars(pipe.scheduler)
    # and the pipeline still gives its uncached clip afterwards
    np.testing.assert_array_equal(run_pipeline(pipe, PROMPT, seed=0, call=call), uncached)
