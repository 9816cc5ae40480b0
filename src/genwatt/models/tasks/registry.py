"""Every model of the suite, found by repo id or alias, and the models of each task.

The family modules are plain data. Text-to-image and text-to-video entries are made
from the diffusion registry (``genwatt.models.registry``), so those models are
described once.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

from genwatt.errors import ConfigError
from genwatt.models.tasks.catalog import TASKS, get_task
from genwatt.models.tasks.spec import TaskModelSpec
from genwatt.suggest import close_names


def _family_modules() -> tuple[ModuleType, ...]:
    from genwatt.models.tasks import (
        diffusion_tasks,
        multi_purpose,
        speech,
        text_encoders,
        text_generators,
        vision,
    )

    return (text_encoders, text_generators, multi_purpose, vision, speech, diffusion_tasks)


@cache
def _specs() -> tuple[TaskModelSpec, ...]:
    specs = tuple(spec for module in _family_modules() for spec in module.SPECS)
    seen: dict[str, str] = {}
    for spec in specs:
        for task in spec.tasks:
            get_task(task)  # a typo in a family module fails here, on first use
        for key in (spec.repo_id, *spec.aliases):
            owner = seen.setdefault(key.lower(), spec.repo_id)
            if owner != spec.repo_id:
                raise ValueError(f"task model {key!r} is claimed by {owner} and {spec.repo_id}")
    return specs


def list_task_models(task: str | None = None) -> list[TaskModelSpec]:
    """The models of ``task`` (every model when None), task-specific ones first."""
    if task is not None:
        get_task(task)
    specs = [s for s in _specs() if task is None or task in s.tasks]
    return sorted(specs, key=lambda s: s.kind != "task-specific")


def get_task_model(name: str) -> TaskModelSpec:
    """The model registered as ``name`` (repo id or alias, any case)."""
    key = name.strip().lower()
    index = {k.lower(): s for s in _specs() for k in (s.repo_id, *s.aliases)}
    if key in index:
        return index[key]
    close = close_names(key, {k: index[k].repo_id for k in index})
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise ConfigError(
        f"Unknown model {name!r} for the suite.{hint} Run `genwatt tasks` to list them."
    )


__all__ = ["TASKS", "get_task_model", "list_task_models"]
