"""Restarting a sampler part-way: from a stored latent after ``K`` of ``N`` steps.

Why: ``SemanticReuse`` (``genwatt.mitigate.reuse``) restarts denoising from an earlier,
similar prompt's latent, and ``WanPipeline`` has no ``denoising_start`` argument. So the
stored latent goes in as ``latents=`` and the scheduler is made to start at ``K``
(``start_at_step``): its ``set_timesteps`` is wrapped to keep ``timesteps[K:]`` *and*
``sigmas[K:]``. Why not the full sigmas plus ``set_begin_index(K)``: ``WanPipeline``
calls ``set_begin_index(0)`` right after ``set_timesteps``, undoing the offset; UniPC's
``lower_order_final`` counts the steps left as ``len(timesteps) - step_index``; and the
pipeline's cache context reads ``sigmas[i]`` by loop position. With both cut, UniPC runs
as a fresh sampler started at ``sigma_K``. That is not bit-exact against the
uninterrupted run even for the same prompt, since the multistep solver restarts without
its history (one first-order step, no corrector on the stored latent): on the reference
model the largest pixel change is a few percent of the range (the test bounds it at
5 %), and trained-model clips stay 45 to 65 dB PSNR from the uninterrupted ones.

``restart_step`` maps a prompt similarity to ``K``; ``capture_steps`` says after which
steps a generation keeps its latent so that later prompts can restart from it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from genwatt.errors import ConfigError

#: Where latents are kept, as shares of the steps: a tenth to a half, as NIRVANA skips
#: 5 to 25 of 50 steps.
DEFAULT_RESTART_FRACTIONS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5)


def capture_steps(steps: int, fractions: Sequence[float]) -> tuple[int, ...]:
    """Step counts after which latents are kept: ``f * steps`` rounded, within 1..steps-1."""
    return tuple(sorted({k for f in fractions if 0 < (k := _step_at(f, steps)) < steps}))


def restart_step(
    similarity: float,
    *,
    steps: int,
    restart_threshold: float,
    return_threshold: float = 1.0,
    fractions: Sequence[float] = DEFAULT_RESTART_FRACTIONS,
) -> int:
    """How many of ``steps`` to skip when restarting from a prompt this similar.

    The mapping: similarity moves linearly from ``restart_threshold`` (the smallest
    fraction in ``fractions``) to ``return_threshold`` (the largest); the chosen fraction
    is the largest in ``fractions`` not above that point, and ``K = f * steps`` rounded.
    With the defaults (0.80 to 0.98 over 0.1 .. 0.5) a similarity of 0.80 skips 10 % of
    the steps, 0.845 20 %, 0.89 30 %, 0.935 40 % and 0.98 50 %. Why monotone: the early
    steps set the composition, which similar prompts share; the more similar the prompt,
    the more of the trajectory can be shared before the new prompt takes over.
    """
    fractions = validated_fractions(fractions)
    if steps < 2:
        raise ConfigError(f"a restart needs at least 2 steps; got {steps}")
    low, high = fractions[0], fractions[-1]
    span = return_threshold - restart_threshold
    position = 1.0 if span <= 0 else (similarity - restart_threshold) / span
    target = low + min(max(position, 0.0), 1.0) * (high - low)
    chosen = max(f for f in fractions if f <= target + 1e-9)
    return min(max(_step_at(chosen, steps), 1), steps - 1)


@contextmanager
def start_at_step(scheduler: Any, step: int) -> Iterator[None]:
    """Make the next sampling run on ``scheduler`` begin after ``step`` steps.

    Wraps ``set_timesteps`` (an instance attribute, removed again on exit, also on error)
    so that it keeps ``timesteps[step:]`` and ``sigmas[step:]``; see the module doc for
    why both. Fits schedulers that make one model call per step and keep one sigma per
    timestep plus the final one; UniPC, which WAN uses, is the one tested. Anything else
    raises ``ConfigError`` rather than sampling with misaligned sigmas.
    """
    if step < 1:
        raise ConfigError(f"a restart must skip at least one step; got {step}")
    if getattr(scheduler, "order", 1) != 1:
        raise ConfigError(
            f"{type(scheduler).__name__} runs several model calls per step; reuse can only "
            "restart multistep schedulers such as UniPC or DPM-Solver++"
        )
    original = scheduler.set_timesteps
    shadowed = "set_timesteps" in vars(scheduler)

    def set_timesteps(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        timesteps, sigmas = scheduler.timesteps, getattr(scheduler, "sigmas", None)
        if sigmas is None or len(sigmas) != len(timesteps) + 1:
            raise ConfigError(
                f"{type(scheduler).__name__} does not keep one sigma per timestep plus the "
                "final one; reuse cannot restart it"
            )
        if step >= len(timesteps):
            raise ConfigError(f"cannot restart after {step} of {len(timesteps)} steps")
        scheduler.timesteps = timesteps[step:]
        scheduler.sigmas = sigmas[step:]
        scheduler.num_inference_steps = len(scheduler.timesteps)

    scheduler.set_timesteps = set_timesteps
    try:
        yield
    finally:
        if shadowed:
            scheduler.set_timesteps = original
        else:
            del scheduler.set_timesteps


def _step_at(fraction: float, steps: int) -> int:
    """``fraction * steps`` rounded half up (``round`` would send 7.5 to 8 but 22.5 to 22)."""
    return math.floor(fraction * steps + 0.5)


def validated_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    values = tuple(sorted({float(f) for f in fractions}))
    if not values or values[0] <= 0 or values[-1] >= 1:
        raise ConfigError(
            f"restart fractions must be a non-empty list of values strictly between 0 and "
            f"1 (shares of the steps to skip); got {list(fractions)}"
        )
    return values


# --------------------------------------------------------------------- strategies
