"""The guidance scale a diffusers pipeline class uses when its caller sets none.

The registry's defaults are what each model's authors run (``Defaults``): a distilled
model's card may set guidance 0, which drops the unconditional pass. A harness that
calls the pipeline without ``guidance_scale`` (AI Energy Score's ``energy_star``
scenario sets only the steps and images per prompt) gets the class's own default
instead, and with classifier-free guidance twice the denoiser's work.

Values: the ``guidance_scale`` defaults of each class's ``__call__`` in diffusers 0.42
(``tests/models/test_call_defaults.py`` checks them against the installed diffusers).
"""

from __future__ import annotations

from genwatt.models.spec import ModelSpec

PIPELINE_CALL_GUIDANCE: dict[str, float] = {
    "StableDiffusionPipeline": 7.5,
    "StableDiffusionXLPipeline": 5.0,
    "StableDiffusion3Pipeline": 7.0,
    "FluxPipeline": 3.5,
    "WanPipeline": 5.0,
    "CogVideoXPipeline": 6.0,
    "MochiPipeline": 4.5,
    "LTXPipeline": 3.0,
    "HunyuanVideoPipeline": 6.0,
    "AnimateDiffPipeline": 7.5,
}


def call_default_guidance(spec: ModelSpec) -> float | None:
    """The guidance ``spec``'s pipeline runs at when called without one, where it differs
    from the registry's default (None: the same, or a class not in the table)."""
    value = PIPELINE_CALL_GUIDANCE.get(spec.pipeline_class or "")
    if value is None or spec.defaults.guidance == value:
        return None
    return value
