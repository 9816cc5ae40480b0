"""Text-to-image and text-to-video in the suite: the diffusion registry's models.

Each real text-to-image and text-to-video model of ``genwatt.models.registry`` becomes
a suite entry that points at it (``diffusion_model``), so its config, tiny form and
pipeline are described once, where the sweep and the predictor read them.
"""

from __future__ import annotations

from genwatt.models.registry import list_models
from genwatt.models.spec import ModelSpec
from genwatt.models.tasks.spec import TaskModelSpec, TaskName

_TASK_OF: dict[str, TaskName] = {"t2i": "text-to-image", "t2v": "text-to-video"}


def _entry(spec: ModelSpec) -> TaskModelSpec:
    aliases = tuple(a for a in (spec.name, *spec.aliases) if a != spec.repo_id)
    return TaskModelSpec(
        repo_id=spec.repo_id or spec.name,
        tasks=(_TASK_OF[spec.task],),
        family=spec.family,
        params=spec.denoiser_params,
        published_params=spec.published_params,
        source=f"the diffusion registry's {spec.name}",
        torch_dtype=spec.torch_dtype,
        diffusion_model=spec.name,
        aliases=aliases,
    )


SPECS: tuple[TaskModelSpec, ...] = tuple(
    _entry(spec) for spec in list_models(include_tiny=False) if spec.task in _TASK_OF
)
