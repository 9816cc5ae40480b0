"""Every strategy ``genwatt mitigate`` knows, by short name, and the ``--strategies`` parser.

``--strategies`` takes comma-separated ``NAME`` or ``NAME:SETTING`` items (``magcache:0.1``,
``fewer-steps:15``), or a kind (``cache``, ``reuse``, ``baseline``) for every default of
that kind, or ``all``. The setting is each strategy's one aggressiveness knob.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from genwatt.errors import ConfigError
from genwatt.mitigate.adaptive_cache import PRESET_3X, AdaptiveStepCache
from genwatt.mitigate.baselines import FewerSteps, LowerResolution, NoGuidance, default_baselines
from genwatt.mitigate.caching import CACHE_FACTORIES, CacheFactory, default_cache_strategies
from genwatt.mitigate.strategy import KINDS, Strategy
from genwatt.numbers import finite
from genwatt.suggest import close_names

Factory = Callable[[float | None, Mapping[str, Any], Path], Strategy]


def _fewer_steps(value: float | None, call: Mapping[str, Any], _: Path) -> Strategy:
    return FewerSteps(round(value) if value is not None else int(call["num_inference_steps"]) // 2)


def _lower_resolution(value: float | None, _call: Mapping[str, Any], _: Path) -> Strategy:
    return LowerResolution(0.5 if value is None else float(value))


def _no_guidance(value: float | None, _call: Mapping[str, Any], _: Path) -> Strategy:
    if value is not None:
        raise ConfigError("no-guidance takes no setting")
    return NoGuidance()


def _exact_reuse(value: float | None, _call: Mapping[str, Any], store: Path) -> Strategy:
    from genwatt.mitigate.reuse import ExactPromptReuse

    if value is not None:
        raise ConfigError("reuse-exact takes no setting")
    return ExactPromptReuse(store=store.with_name(f"exact-{store.name}"))


def _semantic_reuse(value: float | None, _call: Mapping[str, Any], store: Path) -> Strategy:
    from genwatt.mitigate.reuse import SemanticReuse

    own = store.with_name(f"semantic-{store.name}")
    if value is None:
        return SemanticReuse(store=own)
    return SemanticReuse(store=own, restart_threshold=float(value))


def _adaptive_3x(value: float | None, _call: Mapping[str, Any], _store: Path) -> Strategy:
    settings = dict(PRESET_3X)
    if value is not None:
        settings["threshold"] = float(value)
    return AdaptiveStepCache(**settings)


def _cache(factory: CacheFactory) -> Factory:
    def make(value: float | None, _call: Mapping[str, Any], _store: Path) -> Strategy:
        return factory(value)

    return make


#: name -> (kind, setting, factory, description)
CATALOG: dict[str, tuple[str, str | None, Factory, str]] = {
    **{
        name: ("cache", factory.setting, _cache(factory), factory.description)
        for name, factory in CACHE_FACTORIES.items()
    },
    "genwatt-adaptive-3x": (
        "cache",
        "threshold",
        _adaptive_3x,
        "genwatt's adaptive cache set for about 3x fewer denoising FLOPs "
        "(warm-up 5, at most 5 skips in a row)",
    ),
    "reuse-exact": ("reuse", None, _exact_reuse, "return the stored clip of the same prompt"),
    "reuse-semantic": (
        "reuse",
        "restart similarity",
        _semantic_reuse,
        "reuse or restart from a similar earlier prompt's latent (NIRVANA)",
    ),
    "fewer-steps": ("baseline", "steps", _fewer_steps, "fewer denoising steps"),
    "lower-resolution": ("baseline", "scale", _lower_resolution, "smaller frames, upscaled"),
    "no-guidance": ("baseline", None, _no_guidance, "guidance 1: no unconditional pass"),
}


def describe_strategies(call: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows for ``genwatt mitigate --list``; ``default`` is what ``NAME`` alone runs, as the
    strategy's full name with its setting (``fewer-steps`` depends on ``call``'s steps,
    the reference model's by default)."""
    if call is None:
        from genwatt.models.reference.architecture import DEFAULTS

        call = DEFAULTS.call_kwargs()
    unused = Path(tempfile.gettempdir()) / "genwatt-reuse-unused.db"  # reuse opens lazily
    return [
        {
            "name": name,
            "kind": kind,
            "setting": setting,
            "default": factory(None, call, unused).name,
            "description": description,
        }
        for name, (kind, setting, factory, description) in CATALOG.items()
    ]


def _defaults(kind: str, call: Mapping[str, Any], store: Path) -> list[Strategy]:
    if kind == "baseline":
        return default_baselines(call)
    if kind == "cache":
        return default_cache_strategies()
    return [CATALOG[name][2](None, call, store) for name in ("reuse-exact", "reuse-semantic")]


def parse_strategies(
    text: str, call: Mapping[str, Any], *, reuse_store: Path | None = None
) -> list[Strategy]:
    """Strategies for a ``--strategies`` value.

    Each reuse strategy keeps its own file beside ``reuse_store`` (``exact-NAME``,
    ``semantic-NAME``), so one cannot hit the other's clips within a comparison. Without
    ``reuse_store`` they start from fresh temporary files, so an earlier comparison's
    clips cannot make this one look better than it is.
    """
    store = reuse_store or Path(tempfile.mkdtemp(prefix="genwatt-reuse-")) / "reuse.db"
    out: list[Strategy] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if item == "all":
            for kind in ("baseline", "cache", "reuse"):
                out.extend(_defaults(kind, call, store))
            continue
        if item in KINDS:
            out.extend(_defaults(item, call, store))
            continue
        name, _, setting = item.partition(":")
        if name not in CATALOG:
            known = [*CATALOG, *KINDS, "all"]
            close = close_names(name, {k: k for k in known})
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(f"unknown strategy {name!r}{hint}; choose from {', '.join(known)}")
        # finite: "magcache:nan" would compare false with every threshold and cache nothing
        value = finite(setting, f"{name}: setting") if setting else None
        out.append(CATALOG[name][2](value, call, store))
    if not out:
        raise ConfigError("--strategies is empty; name at least one (see --list)")
    return out
