"""genwatt's own adaptive step cache: skip whole denoiser calls whose output is predictable.

Why our own: diffusers' step caches decide *inside* the transformer (first block, block
stack) and still run the patch embedding, the condition embedder and the output head on
every step. The TeaCache/EasyCache family decides at the level of the whole denoiser
call instead, so a skipped step costs no transformer FLOPs at all, and diffusers ships no
EasyCache. The idea, per guidance branch (WAN runs the conditional and the unconditional
prediction as separate calls, each inside ``transformer.cache_context("cond"/"uncond")``):

* the *transformation* of a call is ``output - input`` (the denoiser's velocity minus the
  noisy latent it was given). Between neighbouring steps it changes far less than either
  the input or the output, so a cached transformation added to the new input is a good
  stand-in for the call;
* the *transformation rate* ``k = ||o_a - o_b|| / ||x_a - x_b||`` between the last two full
  computations says how strongly the output reacts to a change of input. On each new step
  ``k * ||x_t - x_{t-1}|| / ||o||`` estimates the relative output change; the estimates are
  accumulated since the last full computation and the step is skipped while their sum
  stays below ``threshold`` (and fewer than ``max_skips`` steps were skipped in a row);
* a skipped step returns ``x_t`` plus the cached transformation, extrapolated to first
  order in the noise level ``sigma`` from the last two full computations (``order=1``) or
  reused as is (``order=0``);
* the first ``warmup`` and the last ``final`` steps always run in full: the first steps
  decide the layout of the clip and seed the rate, the last ones its fine detail.

State lives in a diffusers ``StateManager`` keyed by the active cache context, so the two
branches never see each other's history; the pipeline resets it after every generation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from diffusers.hooks import HookRegistry, ModelHook
from diffusers.hooks.hooks import BaseState, StateManager

from genwatt.errors import ConfigError
from genwatt.mitigate.strategy import Strategy

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

HOOK_NAME = "genwatt_adaptive_step_cache"


@dataclass(frozen=True)
class AdaptiveSettings:
    """How eagerly the cache skips; ``threshold`` is the main knob (0 never skips)."""

    threshold: float = 0.1
    warmup: int = 3
    final: int = 1
    max_skips: int = 4
    order: float = 1
    lockstep: bool = False
    target: str = "residual"
    measure: str = "output"

    def __post_init__(self) -> None:
        if not self.threshold >= 0:
            raise ConfigError(f"threshold must be >= 0; got {self.threshold}")
        if self.warmup < 2:
            raise ConfigError(
                f"warmup must be >= 2 (two full steps seed the rate); got {self.warmup}"
            )
        if self.final < 0 or self.max_skips < 0:
            raise ConfigError(
                f"final and max_skips must be >= 0; got {self.final}, {self.max_skips}"
            )
        if not 0 <= self.order <= 1:
            raise ConfigError(f"order must be in [0, 1]; got {self.order}")


@dataclass
class _Full:
    """One full computation: input, output and where in the schedule it ran."""

    step: int
    sigma: float
    x: torch.Tensor
    out: torch.Tensor


class _BranchTrajectory(BaseState):
    """What one guidance branch remembers within one generation."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.fulls: list[_Full] = []  # the last two full computations, oldest first
        self.previous_x: torch.Tensor | None = None  # input of the previous step, run or not
        self.rate: float | None = None
        self.accumulated = 0.0
        self.skipped_in_row = 0
        self.as_tuple = True


def _norm(x: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(x.float()))


class AdaptiveCacheHook(ModelHook):
    """Wraps the denoiser's forward; skips a call when its change is predicted to be small.

    ``tally`` counts, per branch, how many calls ran (``"<branch>:computed"``) and were
    skipped (``"<branch>:skipped"``) since the hook was attached: handy to report and test.
    """

    _is_stateful = True

    def __init__(self, settings: AdaptiveSettings) -> None:
        super().__init__()
        self.settings = settings
        self.state_manager = StateManager(_BranchTrajectory)
        self.tally: Counter[str] = Counter()
        self._decided: dict[int, bool] = {}

    def new_forward(self, module: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
        context = self.state_manager._context
        x = kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]
        if context is None or context.step_index is None or context.num_inference_steps is None:
            return self.fn_ref.original_forward(*args, **kwargs)  # not inside a denoising loop
        state: _BranchTrajectory = self.state_manager.get_state()
        step = int(context.step_index)
        sigma = float(context.sigma) if context.sigma is not None else float(step)
        skip = self._should_skip(state, x, step, int(context.num_inference_steps))
        if self.settings.lockstep:
            skip = self._decided.setdefault(step, skip) and state.rate is not None
        state.previous_x = x
        if skip:
            state.skipped_in_row += 1
            self.tally[f"{context.name}:skipped"] += 1
            out = self._predict(state, x, sigma).to(x.dtype)
            return (out,) if state.as_tuple else _as_output(out)
        output = self.fn_ref.original_forward(*args, **kwargs)
        self.tally[f"{context.name}:computed"] += 1
        state.as_tuple = isinstance(output, tuple)
        self._record(state, _Full(step, sigma, x, output[0] if state.as_tuple else output.sample))
        return output

    def _should_skip(self, state: _BranchTrajectory, x: torch.Tensor, step: int, n: int) -> bool:
        s = self.settings
        if step < s.warmup or step >= n - s.final or state.rate is None or state.previous_x is None:
            return False
        if state.previous_x.shape != x.shape:
            return False
        state.accumulated += (
            state.rate
            * _norm(x - state.previous_x)
            / max(_norm(self._measure(state.fulls[-1])), 1e-12)
        )
        return state.accumulated < s.threshold and state.skipped_in_row < s.max_skips

    def _record(self, state: _BranchTrajectory, full: _Full) -> None:
        if state.fulls and state.fulls[-1].x.shape == full.x.shape:
            last = state.fulls[-1]
            dx = _norm(full.x - last.x)
            state.rate = _norm(self._measure(full) - self._measure(last)) / dx if dx > 0 else None
        else:
            state.fulls, state.rate = [], None
        state.fulls = [*state.fulls[-1:], full]
        state.accumulated = 0.0
        state.skipped_in_row = 0

    def _measure(self, full: _Full) -> torch.Tensor:
        if self.settings.measure == "clean":
            return full.x - full.sigma * full.out
        return full.out

    def _predict(self, state: _BranchTrajectory, x: torch.Tensor, sigma: float) -> torch.Tensor:
        target = self.settings.target
        if target == "noise" and (1 - sigma < 1e-6 or any(1 - f.sigma < 1e-6 for f in state.fulls)):
            target = "output"

        def encode(full: _Full) -> torch.Tensor:
            if target == "residual":
                return full.out - full.x
            if target == "noise":
                return full.x + (1 - full.sigma) * full.out
            return full.out

        last = state.fulls[-1]
        q = encode(last)
        if self.settings.order > 0 and len(state.fulls) == 2:
            prev = state.fulls[-2]
            if last.sigma != prev.sigma:
                w = self.settings.order * (sigma - last.sigma) / (last.sigma - prev.sigma)
                q = q + (q - encode(prev)) * w
        if target == "residual":
            return x + q
        if target == "noise":
            return (q - x) / (1 - sigma)
        return q

    def reset_state(self, module: torch.nn.Module) -> torch.nn.Module:
        self.state_manager.reset()
        self._decided.clear()
        return module


def _as_output(sample: torch.Tensor) -> Any:
    from diffusers.models.modeling_outputs import Transformer2DModelOutput

    return Transformer2DModelOutput(sample=sample)


@contextmanager
def attached(module: torch.nn.Module, settings: AdaptiveSettings) -> Iterator[AdaptiveCacheHook]:
    """Attach the cache to ``module`` for the block; detach it on exit, even on error."""
    had_registry = hasattr(module, "_diffusers_hook")
    had_forward = "forward" in vars(module)
    registry = HookRegistry.check_if_exists_or_initialize(module)
    if registry.get_hook(HOOK_NAME) is not None:
        raise ConfigError("the genwatt adaptive cache is already attached to this denoiser")
    hook = AdaptiveCacheHook(settings)
    registry.register_hook(hook, HOOK_NAME)
    try:
        yield hook
    finally:
        registry.remove_hook(HOOK_NAME, recurse=False)
        if not registry.hooks and not had_forward and "forward" in vars(module):
            del module.forward  # the registry left the original as an instance attribute
        if not had_registry and not registry.hooks:
            del module._diffusers_hook


class AdaptiveStepCache(Strategy):
    """genwatt's adaptive step cache on the pipeline's ``transformer`` (see module doc).

    ``threshold`` is the accumulated relative output change allowed before a full call;
    the other arguments are ``AdaptiveSettings``. ``tally`` sums the per-branch decisions
    over every generation run while the strategy is applied.
    """

    kind = "cache"

    def __init__(
        self,
        threshold: float = AdaptiveSettings.threshold,
        *,
        warmup: int = AdaptiveSettings.warmup,
        final: int = AdaptiveSettings.final,
        max_skips: int = AdaptiveSettings.max_skips,
        order: float = AdaptiveSettings.order,
        lockstep: bool = AdaptiveSettings.lockstep,
        target: str = AdaptiveSettings.target,
        measure: str = AdaptiveSettings.measure,
    ) -> None:
        self.settings = AdaptiveSettings(
            threshold, warmup, final, max_skips, order, lockstep, target, measure
        )
        self.name = f"genwatt-adaptive-{threshold:g}"
        self.description = (
            "genwatt's whole-call adaptive step cache (EasyCache family): skips a "
            f"denoiser call while the predicted output change stays under {threshold:g}"
        )
        self.tally: Counter[str] = Counter()

    @contextmanager
    def applied(
        self, pipe: DiffusionPipeline, *, call: Mapping[str, Any], calibration: Sequence[str]
    ) -> Iterator[None]:
        transformer = getattr(pipe, "transformer", None)
        if transformer is None:
            raise ConfigError("the adaptive step cache needs a pipeline with a `transformer`")
        with attached(transformer, self.settings) as hook:
            try:
                yield
            finally:
                self.tally.update(hook.tally)
