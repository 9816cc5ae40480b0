"""Correct a run of skipped denoiser calls once the full call that ends it has run.

Why: while the adaptive cache skips calls it keeps the last full call's noise estimate
(``genwatt.mitigate.adaptive_cache``), so the sampler integrates a constant where the
model's estimate drifts. When the run ends with a full call, the estimate is known at
both ends of the run, and interpolating it linearly in ``sigma`` across the run is far
safer than extrapolating it forward from the last two full calls (the cache's
``extrapolation``, which lost on the reference model). This module shifts the sample by
what that interpolated estimate would have changed; it costs no denoiser call.

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
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from genwatt.mitigate.adaptive_cache import AdaptiveCacheHook

#: Below this ``1 - sigma`` the flow relations divide by (almost) zero; no shift is made.
MIN_SIGNAL = 1e-6


def shift_coefficient(sigmas: Mapping[int, float], start: int, end: int, until: int) -> float:
    """How far the sample at step ``until`` moves per unit change of the noise estimate.

    The skipped steps ``start + 1 .. until - 1`` used the estimate of the full call at
    ``start``; the estimate of the full call at ``end`` differs from it by ``change``, and
    step ``i`` should have used ``start``'s plus ``change * (sigma_i - sigma_start) /
    (sigma_end - sigma_start)``. The sample at ``until`` then moves by the returned
    coefficient times ``change``. Zero when no skipped step lies before ``until``.
    """
    span = sigmas[end] - sigmas[start]
    if span == 0:
        return 0.0
    signal = {i: 1 - sigmas[i] for i in range(start + 1, until + 1)}
    if min(signal.values(), default=1.0) < MIN_SIGNAL:
        return 0.0
    total = 0.0
    for i in range(start + 1, until):
        weight = (sigmas[i] - sigmas[start]) / span
        step_size = sigmas[i + 1] - sigmas[i]
        total += signal[until] / signal[i + 1] * step_size / signal[i] * weight
    return total


@dataclass(frozen=True)
class _FullStep:
    """The (guided) noise estimate the sampler used at a step whose calls all ran."""

    step: int
    noise: torch.Tensor


class RunCorrector:
    """Stands in for ``scheduler.step``; shifts the sample when a run of skipped steps ends.

    It reads the step index, the noise levels and the skipped steps from the cache's hook,
    and the model output the sampler is given, so it sees the *guided* estimate and needs
    no knowledge of the guidance scale.
    """

    def __init__(self, scheduler: Any, hook: AdaptiveCacheHook) -> None:
        self.scheduler = scheduler
        self.hook = hook
        self.original_step = scheduler.step
        self.last_full: _FullStep | None = None

    def step(
        self,
        model_output: torch.Tensor,
        timestep: Any,
        sample: torch.Tensor,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        step = self.hook.current_step
        if step is not None and step not in self.hook.skipped_steps:
            if self.last_full is not None and self.last_full.step >= step:
                self.last_full = None  # a new generation began
            sigma = self.hook.sigma_at[step]
            noise = sample.float() + (1 - sigma) * model_output.float()
            last = self.last_full
            if last is not None and last.step < step - 1 and last.noise.shape == noise.shape:
                model_output, sample = self._shift(last, step, noise, model_output, sample)
            self.last_full = _FullStep(step, noise)
        return self.original_step(model_output, timestep, sample, *args, **kwargs)

    def _shift(
        self,
        last: _FullStep,
        step: int,
        noise: torch.Tensor,
        model_output: torch.Tensor,
        sample: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        change = noise - last.noise
        sigmas = self.hook.sigma_at
        if self._will_correct_last_step(step):
            coefficient = shift_coefficient(sigmas, last.step, step, step - 1)
            if coefficient:
                previous = self.scheduler.last_sample
                self.scheduler.last_sample = (previous.float() + coefficient * change).to(
                    previous.dtype
                )
            return model_output, sample
        coefficient = shift_coefficient(sigmas, last.step, step, step)
        if not coefficient:
            return model_output, sample
        shift = coefficient * change
        return (
            (model_output.float() - shift / (1 - sigmas[step])).to(model_output.dtype),
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
def runs_corrected(scheduler: Any, hook: AdaptiveCacheHook) -> Iterator[RunCorrector]:
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
