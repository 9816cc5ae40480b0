"""diffusers' step caches on the reference WAN: they skip work, and leave no trace behind.

Random weights and 8 steps keep this fast; settings are aggressive enough that every
cache skips something on random weights. Quality is judged on the trained model, not here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from diffusers.hooks import PyramidAttentionBroadcastConfig, TaylorSeerCacheConfig
from diffusers.hooks.taylorseer_cache import _TRANSFORMER_BLOCK_IDENTIFIERS

from genwatt.errors import ConfigError
from genwatt.mitigate.adaptive_cache import AdaptiveStepCache
from genwatt.mitigate.caching import (
    CACHE_FACTORIES,
    WAN_BLOCKS,
    WAN_CROSS_ATTENTION,
    WAN_SELF_ATTENTION,
    DiffusersCache,
    FasterCache,
    FirstBlockCache,
    MagCache,
    PyramidAttentionBroadcast,
    SeaCache,
    TaylorSeer,
    calibrate_mag_ratios,
    default_cache_strategies,
    separate_branch_state,
)
from genwatt.mitigate.strategy import Strategy, run_pipeline

STEPS = 8  # as in conftest.py
PROMPT = "a red circle moves left"
#: conftest.py's ``counted`` fixture: (pipe, strategy, call) -> (clip, denoising FLOPs).
Counted = Callable[..., tuple[np.ndarray, int]]
CALIBRATION = ["a blue square moves up"]


def fingerprint(module: torch.nn.Module) -> dict[str, Any]:
    """Every hook registry, hook and instance attribute a cache could leave behind."""
    return {
        name: (
            sorted(vars(sub)),
            list(sub._diffusers_hook._hook_order) if hasattr(sub, "_diffusers_hook") else None,
        )
        for name, sub in module.named_modules()
    }


AGGRESSIVE: dict[str, Callable[[], DiffusersCache]] = {
    "fbcache": lambda: FirstBlockCache(0.3),
    "pab": lambda: PyramidAttentionBroadcast(2, timestep_range=(0, 1000)),
    "fastercache": lambda: FasterCache(2),
    "taylorseer": lambda: TaylorSeer(2, warmup=2),
    "magcache": lambda: MagCache(0.05, retention=0.25),
    "seacache": lambda: SeaCache(0.5),
}


@pytest.mark.parametrize("short", sorted(AGGRESSIVE))
def test_cache_skips_work_and_leaves_the_pipeline_as_it_was(
    short: str,
    pipe: Any,
    call: dict[str, Any],
    baseline: tuple[np.ndarray, int],
    counted: Counted,
) -> None:
    base_out, base_flops = baseline
    before = fingerprint(pipe.transformer)
    strategy = AGGRESSIVE[short]()
    assert strategy.kind == "cache"
    with strategy.applied(pipe, call=call, calibration=CALIBRATION):
        assert pipe.transformer.is_cache_enabled
        out, flops = counted(pipe, strategy, call)
    assert flops < 0.95 * base_flops
    assert out.shape == base_out.shape
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    assert not pipe.transformer.is_cache_enabled
    assert fingerprint(pipe.transformer) == before
    after_out, after_flops = counted(pipe, Strategy(), call)
    assert after_flops == base_flops
    np.testing.assert_array_equal(after_out, base_out)


@pytest.mark.parametrize("short", ["fbcache", "fastercache", "magcache"])
def test_hooks_are_removed_when_generation_fails(
    short: str,
    pipe: Any,
    call: dict[str, Any],
    baseline: tuple[np.ndarray, int],
    counted: Counted,
) -> None:
    before = fingerprint(pipe.transformer)

    def fail(_pipe: Any, step: int, _t: Any, _kwargs: Any) -> dict[str, Any]:
        if step == STEPS // 2:
            raise RuntimeError("boom")
        return {}

    strategy = AGGRESSIVE[short]()
    with (
        pytest.raises(RuntimeError, match="boom"),
        strategy.applied(pipe, call=call, calibration=CALIBRATION),
    ):
        run_pipeline(pipe, PROMPT, seed=0, call={**call, "callback_on_step_end": fail})
    assert not pipe.transformer.is_cache_enabled
    assert fingerprint(pipe.transformer) == before
    np.testing.assert_array_equal(counted(pipe, Strategy(), call)[0], baseline[0])


def test_mag_ratios_are_calibrated_for_the_baseline_steps(pipe: Any, call: dict[str, Any]) -> None:
    ratios = calibrate_mag_ratios(pipe, call=call, calibration=CALIBRATION)
    assert len(ratios) == STEPS
    assert ratios[0] == 1.0  # the first step has nothing to compare with
    assert all(np.isfinite(r) and 0.5 < r < 2.0 for r in ratios)
    assert len(set(ratios[1:])) > 1  # measured, not a constant fill
    longer = calibrate_mag_ratios(
        pipe, call={**call, "num_inference_steps": 12}, calibration=CALIBRATION * 2
    )
    assert len(longer) == 12
    with pytest.raises(ConfigError, match="calibration prompt"):
        calibrate_mag_ratios(pipe, call=call, calibration=[])

    strategy = MagCache(0.05)
    with strategy.applied(pipe, call=call, calibration=CALIBRATION):
        assert strategy.mag_ratios == pytest.approx(ratios)


def test_taylorseer_default_identifiers_match_no_wan_module(pipe: Any) -> None:
    """diffusers' defaults would make TaylorSeer a silent no-op on WAN; ours match blocks."""
    names = [name for name, _ in pipe.transformer.named_modules()]
    assert not [n for n in names if any(re.fullmatch(p, n) for p in _TRANSFORMER_BLOCK_IDENTIFIERS)]
    assert [n for n in names if re.fullmatch(WAN_BLOCKS, n)] == [f"blocks.{i}" for i in range(4)]
    assert len([n for n in names if re.search(WAN_SELF_ATTENTION, n)]) == 4
    assert len([n for n in names if re.search(WAN_CROSS_ATTENTION, n)]) == 4

    pipe.transformer.enable_cache(TaylorSeerCacheConfig())
    try:
        registries = [getattr(m, "_diffusers_hook", None) for m in pipe.transformer.modules()]
        assert not [r.hooks for r in registries if r is not None and r.hooks]
    finally:
        pipe.transformer.disable_cache()


def branch_outputs(pipe: Any, *, interleave: bool) -> list[torch.Tensor]:
    """The conditional branch's outputs over a few steps, with or without an uncond call."""
    transformer = pipe.transformer
    gen = torch.Generator().manual_seed(0)
    x = torch.randn((1, 48, 5, 8, 8), generator=gen)
    cond, uncond = torch.randn((2, 1, 8, 64), generator=gen)
    timesteps = [950, 800, 700, 600, 500, 400]  # as in sampling, the first is the noisiest
    outs = []
    try:
        for i, t in enumerate(timesteps):
            pipe._current_timestep = torch.tensor(float(t))
            kwargs = {"step_index": i, "sigma": t / 1000, "num_inference_steps": len(timesteps)}
            args = {"hidden_states": x, "timestep": torch.tensor([t]), "return_dict": False}
            with transformer.cache_context("cond", **kwargs):
                out = transformer(encoder_hidden_states=cond, **args)[0]
            if interleave:
                with transformer.cache_context("uncond", **kwargs):
                    transformer(encoder_hidden_states=uncond, **args)
            outs.append(out)
            x = x - 0.1 * out
    finally:
        pipe._current_timestep = None
        transformer._reset_stateful_cache()
    return outs


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("short", ["pab", "fastercache", "taylorseer", "magcache", "seacache"])
@torch.no_grad()
def test_guidance_branches_keep_separate_state(short: str, pipe: Any, call: dict[str, Any]) -> None:
    strategy = AGGRESSIVE[short]()
    with strategy.applied(pipe, call={**call, "num_inference_steps": 6}, calibration=CALIBRATION):
        alone = branch_outputs(pipe, interleave=False)
        interleaved = branch_outputs(pipe, interleave=True)
    assert _same(alone, interleaved)


@torch.no_grad()
def test_plain_diffusers_pab_mixes_the_branches_on_wan(pipe: Any) -> None:
    """Why ``separate_branch_state`` exists; fails (and can go) once diffusers fixes it."""
    config = PyramidAttentionBroadcastConfig(
        spatial_attention_block_skip_range=2,
        spatial_attention_timestep_skip_range=(0, 1000),
        current_timestep_callback=lambda: 500,
    )
    pipe.transformer.enable_cache(config)
    try:
        assert not _same(
            branch_outputs(pipe, interleave=False), branch_outputs(pipe, interleave=True)
        )
        assert separate_branch_state(pipe.transformer) == 4
        assert _same(branch_outputs(pipe, interleave=False), branch_outputs(pipe, interleave=True))
    finally:
        pipe.transformer.disable_cache()


def test_names_carry_the_setting() -> None:
    assert MagCache(0.1).name == "magcache-0.1"
    assert FirstBlockCache().name == "fbcache-0.05"
    assert PyramidAttentionBroadcast(3).name == "pab-3"
    assert TaylorSeer(5).name == "taylorseer-5"
    assert SeaCache(0.4).name == "seacache-0.4"
    assert FasterCache(3).name == "fastercache-3"
    with pytest.raises(ConfigError):
        PyramidAttentionBroadcast(0)
    with pytest.raises(ConfigError, match="below 999"):
        FasterCache(timestep_range=(-1, 1000))


def test_factories_and_defaults() -> None:
    defaults = default_cache_strategies()
    names = [s.name for s in defaults]
    assert len(set(names)) == len(names) == len(CACHE_FACTORIES)
    assert all(s.kind == "cache" for s in defaults)
    assert any(isinstance(s, AdaptiveStepCache) for s in defaults)
    for short, factory in CACHE_FACTORIES.items():
        assert factory(None).name.startswith(f"{short}-")
    assert CACHE_FACTORIES["magcache"](0.1).name == "magcache-0.1"
    assert CACHE_FACTORIES["taylorseer"](3.0).name == "taylorseer-3"
    assert CACHE_FACTORIES["genwatt-adaptive"](0.2).name == "genwatt-adaptive-0.2"


def test_a_second_cache_on_the_same_pipeline_is_refused(pipe: Any, call: dict[str, Any]) -> None:
    before = fingerprint(pipe.transformer)
    with FirstBlockCache().applied(pipe, call=call, calibration=CALIBRATION):
        with (
            pytest.raises(ConfigError, match="already"),
            SeaCache().applied(pipe, call=call, calibration=CALIBRATION),
        ):
            pass
        assert pipe.transformer.is_cache_enabled
    assert fingerprint(pipe.transformer) == before
