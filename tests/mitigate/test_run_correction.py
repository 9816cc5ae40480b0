"""The skip-run correction: exact for Euler on a linear noise estimate, a gain for UniPC."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import FlowMatchEulerDiscreteScheduler, UniPCMultistepScheduler
from diffusers.hooks.hooks import CacheContext, _set_cache_context

from genwatt.errors import ConfigError
from genwatt.mitigate.adaptive_cache import AdaptiveStepCache
from genwatt.mitigate.run_correction import NoiseEstimate, run_shift
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


def cache(correct_runs: bool, **settings: Any) -> AdaptiveStepCache:
    # a huge threshold skips as often as max_skips allows: steps 2-4 and 6-8
    return AdaptiveStepCache(1e9, warmup=2, max_skips=3, correct_runs=correct_runs, **settings)


def test_the_shift_needs_a_skipped_step_before_its_target_and_a_sigma_span() -> None:
    sigmas = dict(enumerate([0.9, 0.8, 0.7, 0.6]))
    start, end = NoiseEstimate(0, torch.zeros(2)), NoiseEstimate(2, torch.ones(2))
    used = {1: torch.zeros(2)}
    assert run_shift(sigmas, start, end, used, until=1) is None
    assert run_shift(sigmas, start, end, used, until=2) is not None
    flat = dict(enumerate([0.5, 0.5, 0.5]))
    assert not run_shift(flat, start, end, used, until=2).any()  # no span: nothing to move


def test_a_skipped_step_that_used_the_interpolated_estimate_needs_no_shift() -> None:
    sigmas = dict(enumerate([0.9, 0.8, 0.7, 0.6]))
    start, end = NoiseEstimate(0, torch.zeros(2)), NoiseEstimate(3, torch.full((2,), 3.0))
    used = {1: torch.full((2,), 1.0), 2: torch.full((2,), 2.0)}  # sigma is linear in steps
    torch.testing.assert_close(run_shift(sigmas, start, end, used, until=3), torch.zeros(2))
    used[2] = torch.full((2,), 2.5)
    assert run_shift(sigmas, start, end, used, until=3).abs().min() > 0


@pytest.mark.parametrize(
    "settings",
    [{}, {"target": "output"}, {"target": "residual"}, {"extrapolation": 0.5}],
    ids=["noise", "output", "residual", "extrapolated"],
)
def test_euler_on_a_linear_noise_estimate_is_corrected_exactly(settings: dict) -> None:
    # whatever a skipped call returned, the correction replaces it by the interpolation,
    # which a noise estimate linear in sigma makes exact
    exact = sample(euler(), None)
    uncorrected = sample(euler(), cache(correct_runs=False, **settings))
    corrected = sample(euler(), cache(correct_runs=True, **settings))
    assert not torch.allclose(uncorrected, exact, atol=1e-3)
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


def test_without_a_scheduler_the_default_says_how_to_run_uncorrected() -> None:
    pipe = SimpleNamespace(transformer=LinearNoiseDenoiser())
    with (
        pytest.raises(ConfigError, match="correct_runs=False"),
        AdaptiveStepCache(0.2).applied(pipe, call={}, calibration=()),
    ):
        pass
    with AdaptiveStepCache(0.2, correct_runs=False).applied(pipe, call={}, calibration=()):
        pass
