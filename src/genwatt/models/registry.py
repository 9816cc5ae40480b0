"""Every registered model, found by short name, Hugging Face repo id or tiny name.

The family modules are plain data, so collecting them costs milliseconds and imports no
torch: ``genwatt models`` and parameter checks stay fast.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

from genwatt.errors import ConfigError
from genwatt.models.spec import ModelSpec, Task
from genwatt.suggest import close_names


def _family_modules() -> tuple[ModuleType, ...]:
    from genwatt.models.families import (
        animatediff,
        cogvideox,
        flux,
        hunyuanvideo,
        ltx,
        mochi,
        reference,
        sd3,
        stable_diffusion,
        text,
        wan,
    )

    return (
        wan,
        reference,
        cogvideox,
        mochi,
        ltx,
        hunyuanvideo,
        animatediff,
        stable_diffusion,
        sd3,
        flux,
        text,
    )


@cache
def _specs() -> tuple[ModelSpec, ...]:
    specs = tuple(spec for module in _family_modules() for spec in module.SPECS)
    _check_consistent(specs)
    return specs


def _check_consistent(specs: tuple[ModelSpec, ...]) -> None:
    """Fail on first use, for every lookup alike, if two entries claim one name or a
    tiny form is missing: a registry error is a bug in the family modules."""
    seen: dict[str, str] = {}
    for spec in specs:
        for key in (spec.name, *spec.aliases):
            owner = seen.setdefault(key.lower(), spec.name)
            if owner != spec.name:
                raise ValueError(f"model name {key!r} is claimed by {owner} and {spec.name}")
    for spec in specs:
        tiny = seen.get(spec.tiny_name.lower())
        if tiny is None:
            raise ValueError(f"{spec.name}: tiny form {spec.tiny_name!r} is not registered")


@cache
def _index() -> dict[str, tuple[str, ModelSpec]]:
    """Lower-cased name -> (the name as written, its spec)."""
    index: dict[str, tuple[str, ModelSpec]] = {}
    for spec in _specs():
        for key in (spec.name, *spec.aliases):
            index[key.lower()] = (key, spec)
    return index


def list_models(task: Task | None = None, *, include_tiny: bool = True) -> list[ModelSpec]:
    """All registered specs, real ones first in family order, then the tiny forms."""
    specs = [s for s in _specs() if task is None or s.task == task]
    if not include_tiny:
        specs = [s for s in specs if not s.is_tiny]
    return sorted(specs, key=lambda s: s.is_tiny)


def get_model(name: str) -> ModelSpec:
    """The spec registered as ``name``: short name, repo id or tiny name, any case."""
    if not isinstance(name, str):
        raise ConfigError(f"a model name is text from `genwatt models`, got {name!r}")
    key = name.strip().lower()
    index = _index()
    if key in index:
        return index[key][1]
    # A model's short name and repo id are both keys: suggest each model once, as the
    # closest of its names is written.
    names = {k: spec.name for k, (_, spec) in index.items()}
    close = close_names(key, names, shown={k: written for k, (written, _) in index.items()})
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise ConfigError(
        f"Unknown model {name!r}.{hint} Run `genwatt models` to list every registered model."
    )
