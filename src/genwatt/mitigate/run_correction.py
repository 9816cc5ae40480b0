"""Correct a run of skipped denoiser calls once the full call that ends it has run.

Why: while the adaptive cache skips calls it keeps the last full call's noise estimate
(``adaptive_cache``), so the sampler integrates a constant where the
model's estimate drifts (or, with the cache's other targets and its extrapolation, some
other guess; the correction records what each skipped step used, so it holds for all).
When the run ends with a full call, the estimate is known at both ends of the run, and
interpolating it linearly in ``sigma`` across the run is far safer than extrapolating it
forward from the last two full calls. This module shifts the sample by what that
interpolated estimate would have changed; it costs no denoiser call.

The shift, for flow models (``x = (1 - sigma) * clean + sigma * noise``, ``a = 1 - sigma``):
a first-order step from ``sigma_i`` to ``sigma_{i+1}`` with noise estimate ``e_i`` gives
``x_{i+1} = x_i * a_{i+1} / a_i + (sigma_{i+1} - sigma_i) / a_i * e_i``. Changing ``e_i``
by ``d`` therefore moves ``x_{i+1}`` by ``(sigma_{i+1} - sigma_i) / a_i * d``, and each
later step carries that forward scaled by ``a_{j+1} / a_j``. The shift is exact for an
Euler sampler whose model's noise estimate is linear in ``sigma`` and independent of the
sample (the tests check this), and a first-order approximation for UniPC, WAN's
second-order sampler, where its effect was measured (``docs/mitigation.md``).

Where the shift goes:

* a scheduler that is about to correct its last step with this output (UniPC, when the
  previous step is not in ``disable_corrector``) rebuilds the current sample from its
  ``last_sample``, so that one is shifted, up to the step before this one;
* otherwise the current sample is shifted, and the model output with it, so that the
  noise estimate the sampler uses is still the one the model gave.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import torch

#: Below this ``1 - sigma`` the flow relations divide by (almost) zero; no shift is made.
MIN_SIGNAL = 1e-6


class StepRecord(Protocol):
    """What the correction reads from the cache's hook (``AdaptiveCacheHook``), as it runs.

    A protocol rather than the hook's class: the cache imports this module, so this module
    names only the three attributes it reads.
    """

    #: The step of the latest denoiser call; None before the first.
    current_step: int | None
    #: Every step's noise level in the current generation.
    sigma_at: dict[int, float]
    #: Steps of the current generation at which a call was skipped.
    skipped_steps: set[int]


@dataclass(frozen=True)
class NoiseEstimate:
    """The (guided) noise estimate the sampler used at a step."""

    step: int
    noise: torch.Tensor


def propagation_factors(sigmas: Mapping[int, float], start: int, until: int) -> dict[int, float]:
    """For each skipped step ``start + 1 .. until - 1``: how far the sample at ``until``
    moves per unit change of the noise estimate that step used. Empty when a noise level
    on the way leaves (almost) no signal, where the flow relations do not hold."""
    signal = {i: 1 - sigmas[i] for i in range(start + 1, until + 1)}
    if min(signal.values(), default=1.0) < MIN_SIGNAL:
        return {}
    return {
        i: signal[until] / signal[i + 1] * (sigmas[i + 1] - sigmas[i]) / signal[i]
        for i in range(start + 1, until)
    }


def interpolation_weight(sigmas: Mapping[int, float], start: int, end: int, step: int) -> float:
    """Where ``step`` lies between the full calls at ``start`` (0) and ``end`` (1), in sigma."""
    span = sigmas[end] - sigmas[start]
    return 0.0 if span == 0 else (sigmas[step] - sigmas[start]) / span


def run_shift(
    sigmas: Mapping[int, float],
    start: NoiseEstimate,
    end: NoiseEstimate,
    used: Mapping[int, torch.Tensor],
    until: int,
) -> torch.Tensor | None:
    """How far the sample at step ``until`` should move: each skipped step between the
    full calls ``start`` and ``end`` used ``used[step]`` as its noise estimate where the one
    interpolated in sigma between theirs was wanted. ``None`` when no skipped step lies
    before ``until`` or the flow relations do not hold on the way."""
    total: torch.Tensor | None = None
    change = end.noise - start.noise  # once per run, not per skipped step
    for step, factor in propagation_factors(sigmas, start.step, until).items():
        weight = interpolation_weight(sigmas, start.step, end.step, step)
        wanted = start.noise + weight * change
        term = factor * (wanted - used[step])
        total = term if total is None else total + term
    return total


class RunCorrector:
    """Stands in for ``scheduler.step``; shifts the sample when a run of skipped steps ends.

    It reads the step index, the noise levels and the skipped steps from the cache's hook,
    and the model output the sampler is given, so it sees the *guided* estimate and needs
    no knowledge of the guidance scale. It records what each skipped step actually used,
    so the shift is right whatever the cache returned for it (the frozen noise estimate,
    a frozen output, or an extrapolation).
    """

    def __init__(self, scheduler: Any, hook: StepRecord) -> None:
        self.scheduler = scheduler
        self.hook = hook
        self.original_step = scheduler.step
        self.last_full: NoiseEstimate | None = None
        self.used: dict[int, torch.Tensor] = {}  # skipped step -> the estimate it used

    def step(
        self,
        model_output: torch.Tensor,
        timestep: Any,
        sample: torch.Tensor,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        step = self.hook.current_step
        if step is not None:
            if self.last_full is not None and self.last_full.step >= step:
                self.last_full, self.used = None, {}  # a new generation began
            sigma = self.hook.sigma_at[step]
            noise = sample.float() + (1 - sigma) * model_output.float()
            if step in self.hook.skipped_steps:
                self.used[step] = noise
            else:
                end = NoiseEstimate(step, noise)
                start = self.last_full
                if start is not None and self._closes_a_run(start, end):
                    model_output, sample = self._shift(start, end, model_output, sample)
                self.last_full, self.used = end, {}
        return self.original_step(model_output, timestep, sample, *args, **kwargs)

    def _closes_a_run(self, start: NoiseEstimate, end: NoiseEstimate) -> bool:
        return (
            start.step < end.step - 1
            and start.noise.shape == end.noise.shape
            and all(i in self.used for i in range(start.step + 1, end.step))
        )

    def _shift(
        self,
        start: NoiseEstimate,
        end: NoiseEstimate,
        model_output: torch.Tensor,
        sample: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        sigmas = self.hook.sigma_at
        if self._will_correct_last_step(end.step):
            shift = run_shift(sigmas, start, end, self.used, end.step - 1)
            if shift is not None:
                previous = self.scheduler.last_sample
                self.scheduler.last_sample = (previous.float() + shift).to(previous.dtype)
            return model_output, sample
        shift = run_shift(sigmas, start, end, self.used, end.step)
        if shift is None:
            return model_output, sample
        return (
            (model_output.float() - shift / (1 - sigmas[end.step])).to(model_output.dtype),
            (sample.float() + shift).to(sample.dtype),
        )

    def _will_correct_last_step(self, step: int) -> bool:
        """UniPC's own test: a corrector, a last sample, and the last step not excluded
        (its ``step_index > 0`` holds: a run has ended, so ``step`` is at least 2)."""
        scheduler = self.scheduler
        disabled = getattr(scheduler, "disable_corrector", None)
        return (
            disabled is not None
            and getattr(scheduler, "last_sample", None) is not None
            and step - 1 not in disabled
        )


@contextmanager
def runs_corrected(scheduler: Any, hook: StepRecord) -> Iterator[RunCorrector]:
    """Route ``scheduler.step`` through a ``RunCorrector`` for the block; restore it after."""
    had_own_step = "step" in vars(scheduler)
    own_step = vars(scheduler).get("step")
    corrector = RunCorrector(scheduler, hook)
    scheduler.step = corrector.step
    try:
        yield corrector
    finally:
        if had_own_step:
            scheduler.step = own_step
        else:
            del scheduler.step
