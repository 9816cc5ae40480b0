"""diffusers' own step caches as strategies, configured so they are correct on WAN.

Why a module of its own: each diffusers cache hook (``diffusers.hooks``) was written
against some model and needs a few WAN-specific settings to do its job, and two need a
fix. What each strategy sets, and why:

* every cache runs on ``pipe.transformer`` via ``enable_cache`` and is removed on exit,
  even on error, together with any hook registry it created, so the pipeline is left as
  it was found;
* ``WanPipeline`` runs the two guidance branches as *separate* transformer calls inside
  ``cache_context("cond")`` / ``cache_context("uncond")``. FirstBlockCache, TaylorSeer,
  MagCache and SeaCache keep their state per context. Pyramid Attention Broadcast and
  FasterCache keep a *single* state per attention layer, so on WAN they would reuse the
  unconditional branch's attention in the conditional call and vice versa; here their
  state is swapped for one per branch (``_PerBranch``);
* PAB and FasterCache decide by the current timestep: they read the pipeline's;
* FasterCache's CFG cache approximates the unconditional half of a *batched* call, which
  WAN never makes, so it runs with ``is_guidance_distilled=True`` (attention reuse only);
* TaylorSeer's default identifiers (``^blocks.*attn`` under ``re.fullmatch``) match no
  WAN module (WAN names them ``blocks.N.attn1``), so it would silently cache nothing:
  here it predicts whole blocks (``blocks\\.\\d+``) and keeps its Taylor factors in the
  model's dtype (its bfloat16 default would round a float32 model's features);
* MagCache's ratios are model- and schedule-specific: ``applied`` calibrates them on the
  calibration prompts with the baseline's step count (uncounted work), averaged over the
  prompts and both branches.

* FasterCache's hook skips on a branch's first call if that call's timestep lies in its
  range, with nothing cached yet, and fails: its range must end below the first timestep.

``default_cache_strategies`` is what ``genwatt mitigate`` runs; ``CACHE_FACTORIES`` maps a
short name to a factory taking an optional aggressiveness (``magcache:0.1``). The
defaults were tuned on genwatt's reference model (``benchmarks/mitigation.py``;
``docs/mitigation.md`` has how each cache compares with plain fewer steps at equal
FLOPs); ``genwatt mitigate --strategies magcache:0.1`` and the like set them per run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from diffusers.hooks import (
    FasterCacheConfig,
    FirstBlockCacheConfig,
    MagCacheConfig,
    PyramidAttentionBroadcastConfig,
    SeaCacheConfig,
    TaylorSeerCacheConfig,
)
from diffusers.hooks.faster_cache import (
    FasterCacheBlockHook,
    FasterCacheBlockState,
    FasterCacheDenoiserHook,
    FasterCacheDenoiserState,
)
from diffusers.hooks.hooks import StateManager
from diffusers.hooks.mag_cache import MagCacheHeadHook
from diffusers.hooks.pyramid_attention_broadcast import (
    PyramidAttentionBroadcastHook,
    PyramidAttentionBroadcastState,
)

from genwatt.errors import ConfigError
from genwatt.mitigate.adaptive_cache import AdaptiveStepCache
from genwatt.mitigate.strategy import Strategy

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

#: WAN's block and attention module names (``blocks.3``, ``blocks.3.attn1``, ``...attn2``).
WAN_BLOCKS = r"blocks\.\d+"
WAN_SELF_ATTENTION = r"^blocks\.\d+\.attn1$"
WAN_CROSS_ATTENTION = r"^blocks\.\d+\.attn2$"
#: The first (noisiest) timestep of WAN's flow schedules, which must always run in full.
FIRST_TIMESTEP = 999
#: MagCache calibration noise comes from these seeds, apart from the evaluation seeds.
CALIBRATION_SEED = 10_000


def _transformer(pipe: DiffusionPipeline) -> torch.nn.Module:
    transformer = getattr(pipe, "transformer", None)
    if transformer is None or not hasattr(transformer, "enable_cache"):
        raise ConfigError("step caches need a pipeline whose `transformer` supports enable_cache")
    return transformer


def _steps(call: Mapping[str, Any]) -> int:
    if "num_inference_steps" not in call:
        raise ConfigError("a step cache needs `num_inference_steps` in the baseline call")
    return int(call["num_inference_steps"])


def _timestep_of(pipe: DiffusionPipeline) -> Callable[[], float]:
    """The pipeline's current timestep as a float (1000 noisiest; ``inf`` outside a call)."""

    def current() -> float:
        t = pipe.current_timestep
        return math.inf if t is None else float(t)

    return current


class _PerBranch(StateManager):
    """A ``StateManager`` that poses as one state: attribute access goes to the active branch.

    PAB and FasterCache read and write ``hook.state.<field>``; putting this object there
    gives each cache context its own state without touching their code. diffusers already
    hands the active context to every ``StateManager`` attribute of a stateful hook, and
    resets it after each generation, so both keep working unchanged. Outside any context
    (a bare transformer call) one ``"default"`` state is used.
    """

    _OWN = frozenset({"_state_cls", "_init_args", "_init_kwargs", "_state_cache", "_context"})

    def get_state(self) -> Any:
        name = "default" if self._context is None else self._context.name
        if name not in self._state_cache:
            self._state_cache[name] = self._state_cls(*self._init_args, **self._init_kwargs)
        return self._state_cache[name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in self._OWN:
            raise AttributeError(name)
        return getattr(self.get_state(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.get_state(), name, value)


_SINGLE_STATE_HOOKS: dict[type, type] = {
    PyramidAttentionBroadcastHook: PyramidAttentionBroadcastState,
    FasterCacheBlockHook: FasterCacheBlockState,
    FasterCacheDenoiserHook: FasterCacheDenoiserState,
}


def _hooks(module: torch.nn.Module) -> Iterator[Any]:
    for sub in module.modules():
        registry = getattr(sub, "_diffusers_hook", None)
        if registry is not None:
            yield from registry.hooks.values()


def separate_branch_state(module: torch.nn.Module) -> int:
    """Give every single-state cache hook under ``module`` one state per cache context."""
    swapped = 0
    for hook in _hooks(module):
        state_cls = _SINGLE_STATE_HOOKS.get(type(hook))
        if state_cls is not None and not isinstance(hook.state, _PerBranch):
            hook.state = _PerBranch(state_cls)
            swapped += 1
    return swapped


@contextmanager
def hooks_restored(module: torch.nn.Module) -> Iterator[None]:
    """On exit, remove every diffusers hook and registry added under ``module`` in the block.

    A safety net under ``disable_cache``: a hook left behind by a failed ``enable_cache``,
    or an empty registry a cache created, would otherwise outlive the strategy.
    """
    before = {
        id(sub): set(sub._diffusers_hook.hooks)
        for sub in module.modules()
        if hasattr(sub, "_diffusers_hook")
    }
    own_forward = {id(sub) for sub in module.modules() if "forward" in vars(sub)}
    own_config = "_cache_config" in vars(module)
    config = getattr(module, "_cache_config", None)
    try:
        yield
    finally:
        for sub in module.modules():
            registry = getattr(sub, "_diffusers_hook", None)
            if registry is None:
                continue
            kept = before.get(id(sub), set())
            for name in list(reversed(registry._hook_order)):
                if name not in kept:
                    registry.remove_hook(name, recurse=False)
            if not registry.hooks and id(sub) not in own_forward and "forward" in vars(sub):
                del sub.forward  # the registry left the original as an instance attribute
            if id(sub) not in before and not registry.hooks:
                del sub._diffusers_hook
        for sub in module.modules():
            if hasattr(sub, "_diffusers_hook"):
                sub._diffusers_hook._child_registries_cache = None
        if own_config:
            module._cache_config = config
        elif "_cache_config" in vars(module):
            del module._cache_config


class DiffusersCache(Strategy):
    """A diffusers cache hook enabled on ``pipe.transformer`` while applied."""

    kind = "cache"

    def cache_config(
        self, pipe: DiffusionPipeline, *, call: Mapping[str, Any], calibration: Sequence[str]
    ) -> Any:
        """The diffusers config to enable; may run uncounted calibration on ``pipe``."""
        raise NotImplementedError

    @contextmanager
    def applied(
        self, pipe: DiffusionPipeline, *, call: Mapping[str, Any], calibration: Sequence[str]
    ) -> Iterator[None]:
        transformer = _transformer(pipe)
        if transformer.is_cache_enabled:
            raise ConfigError(f"{self.name}: the transformer already has a cache enabled")
        with ExitStack() as stack:
            stack.enter_context(hooks_restored(transformer))
            config = self.cache_config(pipe, call=call, calibration=calibration)
            transformer.enable_cache(config)
            stack.callback(transformer.disable_cache)
            separate_branch_state(transformer)
            yield


class FirstBlockCache(DiffusersCache):
    """First Block Cache: skip blocks 2..N while block 1's residual barely changes."""

    def __init__(self, threshold: float = 0.05) -> None:
        self.threshold = threshold
        self.name = f"fbcache-{threshold:g}"
        self.description = f"diffusers FirstBlockCache, threshold {threshold:g}"

    def cache_config(
        self, pipe: DiffusionPipeline, *, call: Mapping[str, Any], calibration: Sequence[str]
    ) -> FirstBlockCacheConfig:
        return FirstBlockCacheConfig(threshold=self.threshold)


class PyramidAttentionBroadcast(DiffusersCache):
    """PAB: recompute self-attention every ``skip`` steps, cross-attention every ``cross_skip``.

    Only inside ``timestep_range`` (exclusive, 1000 = pure noise): the first steps fix the
    layout and the last ones the detail, and both need fresh attention. WAN's ``attn1``
    attends over space and time at once, so there is no separate temporal layer.
    """

    def __init__(
        self,
        skip: int = 2,
        *,
        cross_skip: int | None = None,
        timestep_range: tuple[float, float] = (100, 800),
    ) -> None:
        if skip < 1 or (cross_skip is not None and cross_skip < 1):
            raise ConfigError(f"PAB skip ranges must be >= 1; got {skip}, {cross_skip}")
        self.skip = skip
        self.cross_skip = cross_skip if cross_skip is not None else 2 * skip
        self.timestep_range = timestep_range
        self.name = f"pab-{skip}"
        self.description = (
            f"diffusers Pyramid Attention Broadcast: self-attention every {skip}, "
            f"cross-attention every {self.cross_skip} steps for timesteps in {timestep_range}"
        )

    def cache_config(
        self, pipe: DiffusionPipeline, *, call: Mapping[str, Any], calibration: Sequence[str]
    ) -> PyramidAttentionBroadcastConfig:
        return PyramidAttentionBroadcastConfig(
            spatial_attention_block_skip_range=self.skip,
            cross_attention_block_skip_range=self.cross_skip,
            spatial_attention_timestep_skip_range=self.timestep_range,
            cross_attention_timestep_skip_range=self.timestep_range,
            spatial_attention_block_identifiers=(WAN_SELF_ATTENTION,),
            cross_attention_block_identifiers=(WAN_CROSS_ATTENTION,),
            current_timestep_callback=_timestep_of(pipe),
        )


class FasterCache(DiffusersCache):
    """FasterCache's attention reuse: self-attention is extrapolated on skipped steps.

    Computed every ``skip`` steps inside ``timestep_range``; in between, from the last two
    computed outputs with weight ``weight``. Its CFG cache cannot apply to WAN (see module
    doc), so this is the attention half of FasterCache only.
    """

    def __init__(
        self,
        skip: int = 2,
        *,
        timestep_range: tuple[float, float] = (-1, 901),
        weight: float = 0.5,
    ) -> None:
        if skip < 1:
            raise ConfigError(f"FasterCache skip must be >= 1; got {skip}")
        if timestep_range[1] >= FIRST_TIMESTEP:
            # Its hook skips on a branch's first call when that lies in the range, with
            # nothing cached yet, and fails; the first step must always run.
            raise ConfigError(
                f"FasterCache's timestep range must end below {FIRST_TIMESTEP}; "
                f"got {timestep_range}"
            )
        self.skip = skip
        self.timestep_range = timestep_range
        self.weight = weight
        self.name = f"fastercache-{skip}"
        self.description = (
            f"diffusers FasterCache (attention reuse, guidance branches separate): "
            f"self-attention every {skip} steps for timesteps in {timestep_range}"
        )

    def cache_config(
        self, pipe: DiffusionPipeline, *, call: Mapping[str, Any], calibration: Sequence[str]
    ) -> FasterCacheConfig:
        weight = self.weight
        return FasterCacheConfig(
            spatial_attention_block_skip_range=self.skip,
            spatial_attention_timestep_skip_range=self.timestep_range,
            spatial_attention_block_identifiers=(WAN_SELF_ATTENTION,),
            attention_weight_callback=lambda _module: weight,
            current_timestep_callback=_timestep_of(pipe),
            is_guidance_distilled=True,
        )


class TaylorSeer(DiffusersCache):
    """TaylorSeer: predict every block's output by a Taylor series in the step index.

    Full computation on the first ``warmup`` steps, then every ``interval`` steps, and on
    the last ``final`` steps; in between each block's output is extrapolated (``order``).
    Five warm-up steps: the first steps decide the clip's layout; with three, TaylorSeer
    fell about 2 dB further behind plain fewer steps at equal FLOPs.
    """

    def __init__(
        self, interval: int = 3, *, order: int = 1, warmup: int = 5, final: int = 1
    ) -> None:
        if interval < 1 or order < 0 or warmup < 1 or final < 0:
            raise ConfigError(f"bad TaylorSeer settings {interval=}, {order=}, {warmup=}, {final=}")
        self.interval = interval
        self.order = order
        self.warmup = warmup
        self.final = final
        self.name = f"taylorseer-{interval}"
        self.description = (
            f"diffusers TaylorSeer on WAN blocks: full every {interval} steps, order {order}"
        )

    def cache_config(
        self, pipe: DiffusionPipeline, *, call: Mapping[str, Any], calibration: Sequence[str]
    ) -> TaylorSeerCacheConfig:
        steps = _steps(call)
        return TaylorSeerCacheConfig(
            cache_interval=self.interval,
            disable_cache_before_step=self.warmup,
            disable_cache_after_step=steps - self.final if self.final else None,
            max_order=self.order,
            taylor_factors_dtype=_transformer(pipe).dtype,
            cache_identifiers=[WAN_BLOCKS],
        )


class MagCache(DiffusersCache):
    """MagCache with ratios calibrated on this model and schedule (see ``calibrate_mag_ratios``).

    ``threshold`` bounds the accumulated magnitude error of reusing the block-stack
    residual; at most ``max_skips`` steps in a row; the first ``retention`` fraction of
    steps always runs. ``mag_ratios`` holds the last calibration, for the record.
    """

    def __init__(
        self, threshold: float = 0.06, *, max_skips: int = 3, retention: float = 0.2
    ) -> None:
        self.threshold = threshold
        self.max_skips = max_skips
        self.retention = retention
        self.mag_ratios: list[float] | None = None
        self.name = f"magcache-{threshold:g}"
        self.description = (
            f"diffusers MagCache, calibrated ratios, threshold {threshold:g}, "
            f"at most {max_skips} skips in a row"
        )

    def cache_config(
        self, pipe: DiffusionPipeline, *, call: Mapping[str, Any], calibration: Sequence[str]
    ) -> MagCacheConfig:
        steps = _steps(call)
        self.mag_ratios = calibrate_mag_ratios(pipe, call=call, calibration=calibration)
        return MagCacheConfig(
            threshold=self.threshold,
            max_skip_steps=self.max_skips,
            retention_ratio=self.retention,
            num_inference_steps=steps,
            mag_ratios=self.mag_ratios,
        )


def calibrate_mag_ratios(
    pipe: DiffusionPipeline, *, call: Mapping[str, Any], calibration: Sequence[str]
) -> list[float]:
    """MagCache's per-step residual magnitude ratios, averaged over prompts and branches.

    Runs each calibration prompt once with ``MagCacheConfig(calibrate=True)``. The hook
    forgets its record when it reaches ``num_inference_steps`` and again when the
    pipeline resets its state, so it is told one step more than it will see and the
    record is read in the last step's ``callback_on_step_end``.
    """
    if not calibration:
        raise ConfigError("MagCache needs at least one calibration prompt")
    steps = _steps(call)
    transformer = _transformer(pipe)
    records: list[list[float]] = []

    def keep(_pipe: Any, step: int, _t: Any, _kwargs: Any) -> dict[str, Any]:
        if step == steps - 1:
            for hook in _hooks(transformer):
                if isinstance(hook, MagCacheHeadHook):
                    for state in hook.state_manager._state_cache.values():
                        records.append(list(state.calibration_ratios))
        return {}

    with hooks_restored(transformer):
        transformer.enable_cache(MagCacheConfig(calibrate=True, num_inference_steps=steps + 1))
        try:
            for i, prompt in enumerate(calibration):
                generator = torch.Generator("cpu").manual_seed(CALIBRATION_SEED + i)
                pipe(
                    prompt,
                    generator=generator,
                    output_type="latent",
                    return_dict=False,
                    callback_on_step_end=keep,
                    **call,
                )
        finally:
            transformer.disable_cache()
    if not records or any(len(r) != steps for r in records):
        raise ConfigError(f"MagCache calibration recorded {[len(r) for r in records]} ratios")
    return [sum(r[i] for r in records) / len(records) for i in range(steps)]


class SeaCache(DiffusersCache):
    """SeaCache: a TeaCache-family gate on spectrally filtered latents, new in diffusers 0.42.

    Reuses the block-stack residual while the accumulated relative change of its
    noise-aware indicator stays below ``threshold``, at most ``max_skips`` times in a row.
    ``order=0`` reuses the last residual; diffusers' default ``1`` extrapolates it from
    the last two full steps, which on the reference model lost about 2.5 dB at the same
    saving (genwatt's own cache saw the same: over multi-step gaps, reuse beats a line).
    """

    def __init__(self, threshold: float = 0.3, *, max_skips: int = 2, order: int = 0) -> None:
        self.threshold = threshold
        self.max_skips = max_skips
        self.order = order
        self.name = f"seacache-{threshold:g}"
        self.description = f"diffusers SeaCache, threshold {threshold:g}"

    def cache_config(
        self, pipe: DiffusionPipeline, *, call: Mapping[str, Any], calibration: Sequence[str]
    ) -> SeaCacheConfig:
        return SeaCacheConfig(
            threshold=self.threshold,
            max_consecutive_cached=self.max_skips,
            residual_order=self.order,
        )


def _threshold(cls: Callable[..., Strategy]) -> Callable[[float | None], Strategy]:
    return lambda value: cls() if value is None else cls(float(value))


def _interval(cls: Callable[..., Strategy]) -> Callable[[float | None], Strategy]:
    return lambda value: cls() if value is None else cls(round(value))


@dataclass(frozen=True)
class CacheFactory:
    """How ``--strategies NAME[:SETTING]`` makes one step cache: what its one setting is
    (``--list`` shows it), how ``--list`` describes it, and the maker, called with the
    setting or None for the tuned default."""

    setting: str
    description: str
    make: Callable[[float | None], Strategy]

    def __call__(self, value: float | None) -> Strategy:
        return self.make(value)


def _diffusers(name: str, setting: str, make: Callable[[float | None], Strategy]) -> CacheFactory:
    return CacheFactory(setting, f"diffusers {name} hook, configured for WAN", make)


#: Every step cache by short name, in the order ``--list`` shows them: the one list of
#: cache names (``catalog`` builds ``--strategies`` from it).
CACHE_FACTORIES: dict[str, CacheFactory] = {
    "fbcache": _diffusers("fbcache", "threshold", _threshold(FirstBlockCache)),
    "pab": _diffusers("pab", "skip interval", _interval(PyramidAttentionBroadcast)),
    "fastercache": _diffusers("fastercache", "skip interval", _interval(FasterCache)),
    "taylorseer": _diffusers("taylorseer", "refresh interval", _interval(TaylorSeer)),
    "magcache": _diffusers("magcache", "threshold", _threshold(MagCache)),
    "seacache": _diffusers("seacache", "threshold", _threshold(SeaCache)),
    "genwatt-adaptive": CacheFactory(
        "threshold",
        "genwatt's own adaptive step cache (TeaCache/EasyCache family)",
        _threshold(AdaptiveStepCache),
    ),
}


def default_cache_strategies() -> list[Strategy]:
    """The step caches ``genwatt mitigate`` compares, each at its tuned default."""
    return [factory(None) for factory in CACHE_FACTORIES.values()]
