"""Restarting the sampler part-way: which step, which sigmas, and cleaning up after."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from genwatt.errors import ConfigError
from genwatt.mitigate.comparison.work import count_denoising
from genwatt.mitigate.restart import capture_steps, restart_step, start_at_step
from genwatt.mitigate.reuse import ExactPromptReuse
from genwatt.mitigate.strategy import run_pipeline
from genwatt.models.reference.architecture import DEFAULTS

STEPS = 6
PROMPT = "a red circle moves left"


@pytest.fixture
def call() -> dict[str, Any]:
    return {**DEFAULTS.call_kwargs(), "num_inference_steps": STEPS}


def test_restart_at_k_reproduces_the_full_run_and_uses_sigmas_from_k(
    pipe: Any, call: dict[str, Any], tmp_path: Path
) -> None:
    import torch

    strategy = ExactPromptReuse(tmp_path / "reuse.db")
    full = strategy.generate(pipe, PROMPT, seed=0, call=call)
    full_sigmas = pipe.scheduler.sigmas.clone()
    full_timesteps = pipe.scheduler.timesteps.clone()
    entry = strategy.store.entries()[0]
    assert entry.latent_steps == capture_steps(STEPS, (0.1, 0.2, 0.3, 0.4, 0.5)) == (1, 2, 3)

    for k in entry.latent_steps:
        seen: list[float] = []
        sigmas: list[float] = []

        def record(module: Any, args: Any, kwargs: dict[str, Any], out: list[float] = seen) -> None:
            out.append(float(kwargs["timestep"][0]))

        def first_sigma(
            p: Any, i: int, t: Any, tensors: dict[str, Any], out: list[float] = sigmas
        ) -> dict[str, Any]:
            out.append(float(p.scheduler.sigmas[0]))
            return {}

        handle = pipe.transformer.register_forward_pre_hook(record, with_kwargs=True)
        latent = torch.from_numpy(strategy.store.latent(entry.id, k))
        try:
            with start_at_step(pipe.scheduler, k), count_denoising(pipe) as work:
                restarted = run_pipeline(
                    pipe,
                    PROMPT,
                    seed=0,
                    call={**call, "latents": latent, "callback_on_step_end": first_sigma},
                )
        finally:
            handle.remove()
        assert "set_timesteps" not in vars(pipe.scheduler)
        assert seen[::2] == [float(t) for t in full_timesteps[k:]]  # cond, uncond per step
        assert sigmas[0] == pytest.approx(float(full_sigmas[k]))
        assert work.calls == 2 * (STEPS - k)
        assert np.abs(restarted - full).max() < 0.05


def test_the_scheduler_is_restored_after_an_error(pipe: Any) -> None:
    scheduler = pipe.scheduler
    with pytest.raises(RuntimeError), start_at_step(scheduler, 2):
        scheduler.set_timesteps(STEPS)
        assert len(scheduler.timesteps) == STEPS - 2
        assert len(scheduler.sigmas) == STEPS - 2 + 1
        raise RuntimeError("boom")
    assert "set_timesteps" not in vars(scheduler)
    scheduler.set_timesteps(STEPS)
    assert len(scheduler.timesteps) == STEPS
    with pytest.raises(ConfigError, match="cannot restart after 6"), start_at_step(scheduler, 6):
        scheduler.set_timesteps(STEPS)
    with pytest.raises(ConfigError, match="at least one step"), start_at_step(scheduler, 0):
        pass


def test_restart_step_grows_with_similarity() -> None:
    kwargs = {"steps": 30, "restart_threshold": 0.8, "return_threshold": 0.98}
    assert restart_step(0.80, **kwargs) == 3
    assert restart_step(0.845, **kwargs) == 6
    assert restart_step(0.89, **kwargs) == 9
    assert restart_step(0.935, **kwargs) == 12
    assert restart_step(0.98, **kwargs) == 15
    assert restart_step(0.5, **kwargs) == 3  # clipped at the band's ends
    assert restart_step(1.0, **kwargs) == 15
    ks = [restart_step(s, **kwargs) for s in np.linspace(0.8, 0.98, 50)]
    assert ks == sorted(ks)
    assert restart_step(0.9, **kwargs, fractions=(0.25, 0.75)) == 8  # 7.5 rounds up
    assert restart_step(0.98, **kwargs, fractions=(0.25, 0.75)) == 23
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        restart_step(0.9, **kwargs, fractions=(0.0, 0.5))
    with pytest.raises(ConfigError, match="at least 2 steps"):
        restart_step(0.9, steps=1, restart_threshold=0.8)
