"""genwatt's own adaptive step cache: skip whole denoiser calls whose output is predictable.

Why our own: diffusers' step caches decide *inside* the transformer (first block, block
stack) and still run the patch embedding, the condition embedder and the output head on
every step. The TeaCache/EasyCache family decides at the level of the whole denoiser
call, so a skipped call costs no transformer FLOPs at all; diffusers ships no EasyCache.

How it decides (EasyCache's transformation-rate test, measured where it matters):

* the denoiser is a flow model: from its velocity ``o`` at noisy latent ``x`` and noise
  level ``sigma`` follow its estimate of the clean clip, ``x - sigma * o``, and of the
  noise, ``x + (1 - sigma) * o``;
* the *rate* ``k = ||c_a - c_b|| / ||x_a - x_b||`` between the last two full computations
  says how fast the clean estimate ``c`` moves per unit of input change. On every later
  step ``k * ||x_t - x_{t-1}|| / ||c||`` estimates its relative change; the estimates
  accumulate since the last full call and the step is skipped while the sum stays below
  ``threshold`` (and fewer than ``max_skips`` steps in a row were skipped). The clean
  estimate changes fast in the first steps, where the clip's layout is decided, and
  slowly later, so the test keeps early steps and skips late ones;
* a skipped call returns the velocity that keeps the last full call's *noise* estimate
  (``target="noise"``). ``extrapolation`` > 0 moves the cached quantity along its trend
  in ``sigma`` between the last two full calls;
* a predictor-corrector scheduler (UniPC, WAN's) does not correct with a skipped call's
  output (``correct_skipped=False``): its corrector refines the last step with the new
  output as if it were a fresh model evaluation, and a predicted one only feeds the
  prediction's error back into the sample;
* the first ``warmup`` steps (and the last ``final`` ones) always run;
* with ``correct_runs`` (the default), when a full call ends a run of skipped ones the
  sample is shifted as if the skipped calls had used the noise estimate interpolated
  between the two full calls (``run_correction``): the end of the run is then known, and
  interpolating is far safer than extrapolating forward;
* guidance: WAN runs the conditional and unconditional prediction as separate calls,
  each inside ``transformer.cache_context("cond"/"uncond")``. Each branch keeps its own
  history in a diffusers ``StateManager`` keyed by that context, but with ``lockstep``
  (default) the first branch called at a step decides for all: the guided output
  amplifies the *difference* of the branches (``u + 5 (c - u)``), so a step cached in one
  branch and computed in the other costs far more than one cached in both, whose errors
  largely cancel.

Every default was chosen by measurement on the trained reference model
(``benchmarks/mitigation.py``); ``docs/mitigation.md`` has the results, the studies
behind each choice and the settings that lost.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import torch
from diffusers.hooks import HookRegistry, ModelHook
from diffusers.hooks.hooks import BaseState, StateManager

from genwatt.errors import ConfigError
from genwatt.mitigate.run_correction import runs_corrected
from genwatt.mitigate.strategy import Strategy

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

HOOK_NAME = "genwatt_adaptive_step_cache"
Target = Literal["noise", "output", "residual"]
Measure = Literal["clean", "output"]
TARGETS: tuple[Target, ...] = ("noise", "output", "residual")
MEASURES: tuple[Measure, ...] = ("clean", "output")


#: The setting for about 3x fewer denoising FLOPs on genwatt's reference model (how it
#: was chosen and confirmed: ``docs/mitigation.md``): a longer warm-up keeps the steps
#: where a clip's layout is decided, and runs of up to five skips pay for them late in
#: the trajectory. ``genwatt mitigate`` runs it as
#: ``genwatt-adaptive-3x`` (the threshold can still be set: ``genwatt-adaptive-3x:0.5``).
PRESET_3X: Mapping[str, Any] = MappingProxyType({"threshold": 0.4, "warmup": 5, "max_skips": 5})


@dataclass(frozen=True)
class AdaptiveSettings:
    """How the cache decides and predicts; ``threshold`` is the main knob (0 never skips).

    ``target``: what a skipped call keeps from the last full one: the ``noise`` estimate,
    the ``output`` itself, or the ``residual`` ``output - input`` (EasyCache's choice).
    ``measure``: whose change the rate test estimates, the ``clean`` estimate or the raw
    ``output`` (EasyCache's choice).
    ``correct_skipped``: let a scheduler with a corrector (``disable_corrector``, as
    UniPC has) correct with a skipped call's predicted output; off by default (see the
    module doc).
    ``correct_runs``: when a full call ends a run of skipped ones, shift the sample as if
    the skipped calls had used the noise estimate interpolated between the two full calls
    (``run_correction``); costs no call.
    """

    threshold: float = 0.2
    warmup: int = 3
    final: int = 0
    max_skips: int = 8
    extrapolation: float = 0.0
    lockstep: bool = True
    target: Target = "noise"
    measure: Measure = "clean"
    correct_skipped: bool = False
    correct_runs: bool = True

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
        if not 0 <= self.extrapolation <= 1:
            raise ConfigError(f"extrapolation must be in [0, 1]; got {self.extrapolation}")
        if self.target not in TARGETS or self.measure not in MEASURES:
            raise ConfigError(
                f"target must be one of {TARGETS} and measure one of {MEASURES}; "
                f"got {self.target!r}, {self.measure!r}"
            )


@dataclass
class _Full:
    """One full computation: input, output and the noise level it ran at."""

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

    ``tally`` counts, per branch, the calls that ran (``"<branch>:computed"``) and were
    skipped (``"<branch>:skipped"``) since the hook was attached. A call whose cache
    context lacks the step index, ``sigma`` or the step count (a bare transformer call;
    ``WanPipeline`` passes all three) always runs and is not counted.
    """

    _is_stateful = True

    def __init__(self, settings: AdaptiveSettings) -> None:
        super().__init__()
        self.settings = settings
        self.state_manager = StateManager(_BranchTrajectory)
        self.tally: Counter[str] = Counter()
        self._decided: dict[int, bool] = {}  # step -> the lockstep decision
        #: Steps of the current generation at which some branch's call was skipped.
        self.skipped_steps: set[int] = set()
        #: The step of the latest call and every step's noise level, this generation.
        self.current_step: int | None = None
        self.sigma_at: dict[int, float] = {}

    def new_forward(self, module: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
        context = self.state_manager._context
        if context is None or None in (
            context.step_index,
            context.sigma,
            context.num_inference_steps,
        ):
            return self.fn_ref.original_forward(*args, **kwargs)
        x = kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]
        state: _BranchTrajectory = self.state_manager.get_state()
        step = int(context.step_index)
        sigma = float(context.sigma)
        if step == 0:  # a new generation, even if the last one died before its reset
            state.reset()
            self._decided.clear()
            self.skipped_steps.clear()
            self.sigma_at.clear()
        self.current_step = step
        self.sigma_at[step] = sigma
        skip = self._should_skip(state, x, step, int(context.num_inference_steps))
        if self.settings.lockstep:
            skip = self._decided.setdefault(step, skip) and state.rate is not None
        state.previous_x = x
        if skip:
            self.skipped_steps.add(step)
            state.skipped_in_row += 1
            self.tally[f"{context.name}:skipped"] += 1
            out = self._predict(state, x, sigma).to(x.dtype)
            return (out,) if state.as_tuple else _as_output(out)
        output = self.fn_ref.original_forward(*args, **kwargs)
        self.tally[f"{context.name}:computed"] += 1
        state.as_tuple = isinstance(output, tuple)
        self._record(state, _Full(sigma, x, output[0] if state.as_tuple else output.sample))
        return output

    def _should_skip(self, state: _BranchTrajectory, x: torch.Tensor, step: int, n: int) -> bool:
        s = self.settings
        if step < s.warmup or step >= n - s.final or state.rate is None:
            return False
        if state.previous_x is None or state.previous_x.shape != x.shape:
            return False
        scale = max(_norm(self._measure(state.fulls[-1])), 1e-12)
        state.accumulated += state.rate * _norm(x - state.previous_x) / scale
        return state.accumulated < s.threshold and state.skipped_in_row < s.max_skips

    def _record(self, state: _BranchTrajectory, full: _Full) -> None:
        state.rate = None
        if state.fulls and state.fulls[-1].x.shape == full.x.shape:
            last = state.fulls[-1]
            dx = _norm(full.x - last.x)
            if dx > 0:
                state.rate = _norm(self._measure(full) - self._measure(last)) / dx
            state.fulls = [last, full]
        else:
            state.fulls = [full]
        state.accumulated = 0.0
        state.skipped_in_row = 0

    def _measure(self, full: _Full) -> torch.Tensor:
        if self.settings.measure == "clean":
            return full.x - full.sigma * full.out
        return full.out

    def _predict(self, state: _BranchTrajectory, x: torch.Tensor, sigma: float) -> torch.Tensor:
        target = self.settings.target
        if target == "noise" and min(1 - sigma, *(1 - f.sigma for f in state.fulls)) < 1e-6:
            target = "output"  # at pure noise the noise estimate does not fix the velocity

        def encode(full: _Full) -> torch.Tensor:
            if target == "noise":
                return full.x + (1 - full.sigma) * full.out
            if target == "residual":
                return full.out - full.x
            return full.out

        last = state.fulls[-1]
        cached = encode(last)
        if self.settings.extrapolation > 0 and len(state.fulls) == 2:
            prev = state.fulls[0]
            if last.sigma != prev.sigma:
                weight = (
                    self.settings.extrapolation * (sigma - last.sigma) / (last.sigma - prev.sigma)
                )
                cached = cached + (cached - encode(prev)) * weight
        if target == "noise":
            return (cached - x) / (1 - sigma)
        if target == "residual":
            return x + cached
        return cached

    def reset_state(self, module: torch.nn.Module) -> torch.nn.Module:
        self.state_manager.reset()
        self._decided.clear()
        self.skipped_steps.clear()
        self.current_step = None
        self.sigma_at.clear()
        return module


class _UncorrectedSteps:
    """Stands in for UniPC's ``disable_corrector`` list while the cache is attached.

    UniPC corrects the sample of step ``i - 1`` with the output of step ``i`` unless
    ``i - 1`` is in ``disable_corrector``; so the steps before a skipped one are listed,
    on top of whatever the scheduler was configured to leave uncorrected.
    """

    def __init__(self, configured: Sequence[int], hook: AdaptiveCacheHook) -> None:
        self.configured = list(configured)
        self.hook = hook

    def __contains__(self, step: object) -> bool:
        return step in self.configured or (
            isinstance(step, int) and step + 1 in self.hook.skipped_steps
        )


@contextmanager
def _corrector_off_on_skipped_steps(scheduler: Any, hook: AdaptiveCacheHook) -> Iterator[None]:
    """Keep ``scheduler``'s corrector off the skipped steps, if it has one; restore it."""
    configured = getattr(scheduler, "disable_corrector", None)
    if configured is None:
        yield
        return
    scheduler.disable_corrector = _UncorrectedSteps(configured, hook)
    try:
        yield
    finally:
        scheduler.disable_corrector = configured


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


def _non_default_suffix(settings: AdaptiveSettings) -> str:
    """``-extrapolate-0.5-max-skips-4`` and the like: every setting but the threshold that
    differs from the default, in a fixed order, so two variants never share a name."""
    default = AdaptiveSettings()
    labels = {
        "extrapolation": "extrapolate",
        "warmup": "warmup",
        "final": "final",
        "max_skips": "max-skips",
        "target": "target",
        "measure": "measure",
    }
    parts = []
    for field, label in labels.items():
        value = getattr(settings, field)
        if value != getattr(default, field):
            parts.append(
                f"-{label}-{value:g}" if isinstance(value, int | float) else f"-{label}-{value}"
            )
    if not settings.lockstep:
        parts.append("-per-branch")
    if settings.correct_skipped:
        parts.append("-correct-skipped")
    if not settings.correct_runs:
        parts.append("-no-correct-runs")
    return "".join(parts)


class AdaptiveStepCache(Strategy):
    """genwatt's adaptive step cache on the pipeline's ``transformer`` (see module doc).

    ``threshold`` is the accumulated relative change of the clean estimate allowed before
    a full call; the other keyword arguments are the fields of ``AdaptiveSettings``
    (``AdaptiveStepCache(0.4, warmup=5)``), which validates them and holds their
    defaults. ``from_settings`` takes a settings object as it is. ``tally`` sums the
    per-branch decisions over every generation run while the strategy is applied.
    """

    kind = "cache"

    def __init__(self, threshold: float = AdaptiveSettings.threshold, **settings: Any) -> None:
        self.settings = AdaptiveSettings(threshold, **settings)
        # Settings other than the threshold show in the name only when they differ from
        # the default, so two variants in one comparison never share a name.
        self.name = f"genwatt-adaptive-{threshold:g}" + _non_default_suffix(self.settings)
        self.description = (
            "genwatt's whole-call adaptive step cache (EasyCache family): skips a denoiser "
            f"call while the predicted change of the clean estimate stays under {threshold:g}"
        )
        self.tally: Counter[str] = Counter()

    @classmethod
    def from_settings(cls, settings: AdaptiveSettings) -> AdaptiveStepCache:
        """The cache with ``settings``, field for field."""
        return cls(**dataclasses.asdict(settings))

    @contextmanager
    def applied(
        self, pipe: DiffusionPipeline, *, call: Mapping[str, Any], calibration: Sequence[str]
    ) -> Iterator[None]:
        transformer = getattr(pipe, "transformer", None)
        if transformer is None:
            raise ConfigError("the adaptive step cache needs a pipeline with a `transformer`")
        scheduler = getattr(pipe, "scheduler", None)
        if self.settings.correct_runs and scheduler is None:
            raise ConfigError(
                "correct_runs needs a pipeline with a `scheduler`; pass correct_runs=False "
                "to run the cache without it"
            )
        with attached(transformer, self.settings) as hook:
            corrector = (
                nullcontext()
                if self.settings.correct_skipped
                else _corrector_off_on_skipped_steps(scheduler, hook)
            )
            runs = runs_corrected(scheduler, hook) if self.settings.correct_runs else nullcontext()
            try:
                with corrector, runs:
                    yield
            finally:
                self.tally.update(hook.tally)
