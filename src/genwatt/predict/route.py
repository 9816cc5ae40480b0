"""Which predictor covers a model name: the diffusion predictor or the task predictor.

Both registries can know a name: the suite's text-to-image and text-to-video entries
point at the diffusion registry, and the sweep registry's text models (for
``genwatt sweep``) are also the suite's text-generation models. ``genwatt predict`` and
``genwatt footprint`` resolve a name here, so that they agree on it.
"""

from __future__ import annotations

from typing import Literal

from genwatt.errors import ConfigError

Route = Literal["diffusion", "task"]


def predictor_route(model: str) -> tuple[Route, str]:
    """("diffusion", registry name) or ("task", repo id): which predictor covers ``model``.

    The suite's registry is asked first; a name only the diffusion registry knows (a
    tiny form) goes to the diffusion predictor. Unknown everywhere: the suite's error,
    which suggests close names.
    """
    from genwatt.models.registry import get_model
    from genwatt.models.tasks import get_task_model

    try:
        spec = get_task_model(model)
    except ConfigError as exc:
        try:
            return "diffusion", get_model(model).name
        except ConfigError:
            raise exc from None
    if spec.diffusion_model is not None:
        return "diffusion", spec.diffusion_model
    return "task", spec.repo_id
