"""What a mitigation comparison runs on: the pipeline, its baseline call, and the cases.

Why a separate step: the reference model (trained, with captions the adherence check
understands) and any registered text-to-video model (whose quality figures need real
weights to mean anything) are loaded differently, but are compared the same way. Both
take their baseline call from the registry as ``genwatt bench`` does: ``resolve_params``
checks the requested steps and guidance (before any weights load) and
``pipeline_call_kwargs`` turns them into the pipeline's arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from genwatt.errors import ConfigError
from genwatt.mitigate.comparison.compare import Case, caption_cases
from genwatt.mitigate.comparison.quiet import quiet_diffusers
from genwatt.models import (
    ModelSpec,
    ResolvedParams,
    build_pipeline,
    get_model,
    pipeline_call_kwargs,
    resolve_params,
    spec_for_weights,
)
from genwatt.models.build import PER_GENERATION_KWARGS
from genwatt.models.reference.architecture import NAME
from genwatt.models.reference.captions import split_prompts
from genwatt.run.device_check import check_device

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

#: Prompts for registered models other than the reference model (no adherence check).
GENERIC_PROMPTS = (
    "a red fox runs through fresh snow at sunrise",
    "a sailing boat crosses a calm lake, cinematic",
    "a robot chef cooks in a busy kitchen",
    "waves break on a rocky beach in a storm",
    "a city street at night in the rain",
    "a golden eagle flies over a mountain valley",
)


@dataclass
class Subject:
    """A loaded pipeline and how it is compared."""

    model: str
    weights: str
    pipe: DiffusionPipeline
    call: dict[str, Any]
    cases: list[Case]
    calibration: list[str]
    notes: list[str] = field(default_factory=list)


def _reference(weights: str) -> DiffusionPipeline:
    from genwatt.models.reference.checkpoint import load_trained, trained_card
    from genwatt.models.reference.pipeline import build_pipeline as build_reference

    if weights == "pretrained":
        return load_trained()
    if weights == "random":
        card = trained_card()
        return build_reference(
            seed=0, latents_mean=card["latents_mean"], latents_std=card["latents_std"]
        )
    raise ConfigError(f"{NAME} has weights 'pretrained' (trained by genwatt) or 'random'")


def load_subject(
    model: str,
    *,
    weights: str | None = None,
    device: str = "cpu",
    dtype: str | None = None,
    prompts: int = 6,
    seeds: Sequence[int] = (0,),
    steps: int | None = None,
    guidance: float | None = None,
) -> Subject:
    """Load ``model`` and pick ``prompts`` prompts x ``seeds`` as the comparison's cases.

    For the reference model the prompts are held-out captions (never seen in training)
    and the calibration prompts are training captions, so no strategy is tuned on the
    prompts it is judged on. diffusers' loading notices and progress bars are silenced
    while the weights load (``genwatt.mitigate.comparison.quiet``).
    """
    if prompts < 1 or not seeds:
        raise ConfigError("need at least one prompt and one seed")
    check_device(device)  # a missing CUDA or MPS device is one line, before any loading
    with quiet_diffusers():
        return _load_subject(model, weights, device, dtype, prompts, seeds, steps, guidance)


def _load_subject(
    model: str,
    weights: str | None,
    device: str,
    dtype: str | None,
    prompts: int,
    seeds: Sequence[int],
    steps: int | None,
    guidance: float | None,
) -> Subject:
    notes: list[str] = []
    if model == NAME:
        import torch

        # As small as the tiny models: extra CPU threads only add hand-off overhead.
        torch.set_num_threads(1)
        weights = weights or "pretrained"
        train, held_out = split_prompts()
        if prompts > len(held_out):  # before the weights load: a typo should fail fast
            raise ConfigError(f"{NAME} has {len(held_out)} held-out prompts; asked for {prompts}")
        call, params = baseline_call(get_model(NAME), steps, guidance)
        pipe = _reference(weights)
        # Spread the picks over the held-out list so colours and directions all appear.
        stride = len(held_out) / prompts
        picked = [held_out[int(i * stride)] for i in range(prompts)]
        cases = caption_cases(picked, seeds)
        calibration = [c.text() for c in train[:2]]
        if weights == "random":
            notes.append("random weights: quality figures describe noise, not a model")
    else:
        texts = _generic_prompts(prompts)  # before the weights load
        spec, weights = _registered(model, weights)
        call, params = baseline_call(spec_for_weights(spec, weights), steps, guidance)
        pipe = build_pipeline(spec, weights, device, dtype)
        cases = [Case(p, s) for p in texts for s in seeds]
        calibration = [GENERIC_PROMPTS[-1]]
        if weights != "pretrained":
            notes.append(
                f"{weights} weights: FLOP and time ratios hold, PSNR/SSIM need real weights"
            )
    notes.extend(params.notes)
    return Subject(model, weights, pipe, call, cases, calibration, notes)


def baseline_call(
    spec: ModelSpec, steps: int | None, guidance: float | None
) -> tuple[dict[str, Any], ResolvedParams]:
    """The baseline's pipeline arguments (no prompt, generator or output type) and the
    parameters they come from: ``spec``'s defaults, with ``steps`` and ``guidance`` as
    asked. ConfigError, from the registry's checks, for values the model cannot run."""
    params = resolve_params(spec, steps=steps, guidance=guidance)
    call = pipeline_call_kwargs(spec, params, prompt="")
    for per_generation in PER_GENERATION_KWARGS:
        call.pop(per_generation)
    return call, params


def _generic_prompts(n: int) -> list[str]:
    if n > len(GENERIC_PROMPTS):
        raise ConfigError(f"at most {len(GENERIC_PROMPTS)} prompts for registered models")
    return list(GENERIC_PROMPTS[:n])


def _registered(model: str, weights: str | None) -> tuple[ModelSpec, str]:
    """A registered video model's spec, and the weights to load (default: its own)."""
    spec = get_model(model)
    if spec.task != "t2v":
        raise ConfigError(f"{model} is a {spec.task} model; genwatt mitigate compares video models")
    return spec, weights or spec.default_weights
