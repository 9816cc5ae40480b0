"""A whole generation's FLOPs: which components run, how often, on what.

The family modules give one forward of one component for one sample; this module applies
what the pipeline does around them, read from the installed diffusers pipelines:

- steps: the scheduler's own count (PNDM, SD 1.5's default, runs one more step than
  asked for);
- classifier-free guidance: two denoiser passes per step when ``guidance > 1`` for the
  ``cfg`` families (batched as one batch-2 call, or WAN's two calls: the same FLOPs);
  the negative prompt ("" by default) is encoded by every encoder, except in SDXL whose
  pipeline uses zero embeddings for an empty negative prompt (``force_zeros_for_empty_prompt``);
- batch: everything is per prompt, so it scales linearly;
- text models: one prefill over the prompt, then one decode forward per further token.

Pure arithmetic on the registry's configs: no torch, answers in microseconds.
"""

from __future__ import annotations

import numbers

from genwatt.errors import ConfigError
from genwatt.flops import (
    cogvideox,
    decoder_lm,
    hunyuanvideo,
    ltx,
    mmdit,
    mochi,
    text_encoders,
    unet,
    vae,
    wan,
)
from genwatt.flops.result import ForwardFlops, GenerationFlops
from genwatt.flops.shapes import context_tokens, encoder_tokens, latent_grid
from genwatt.models.params import ResolvedParams
from genwatt.models.spec import ComponentSpec, ModelSpec

# Pipelines that replace an empty negative prompt by zeros instead of encoding it.
ZERO_NEGATIVE_PIPELINES = frozenset({"StableDiffusionXLPipeline"})


def check_call(spec: ModelSpec, params: ResolvedParams, batch_size: int | None) -> int:
    """The batch of the call: ``batch_size``, or ``params.batch_size`` when None.

    ConfigError unless ``params`` were resolved for ``spec`` and the batch is >= 1.
    """
    if params.model != spec.name:
        raise ConfigError(
            f"These parameters were resolved for {params.model}, not {spec.name}; "
            f"call resolve_params({spec.name!r} spec, ...) first."
        )
    if batch_size is None:
        batch_size = params.batch_size
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, numbers.Integral)
        or batch_size < 1
    ):
        raise ConfigError(f"batch_size must be a whole number >= 1, got {batch_size!r}.")
    return int(batch_size)


def scheduler_steps(spec: ModelSpec, params: ResolvedParams) -> int:
    """Denoiser steps the pipeline's scheduler actually runs for ``params.steps``.

    ``PNDMScheduler`` with ``skip_prk_steps`` repeats its second-to-last timestep
    (``plms_timesteps``), so it runs ``steps + 1`` for two steps or more.
    """
    steps = params.steps or 0
    scheduler = spec.scheduler
    if scheduler is not None and scheduler.class_name == "PNDMScheduler" and steps >= 2:
        if not scheduler.config.get("skip_prk_steps", False):
            raise ConfigError(f"{spec.name}: PNDM with Runge-Kutta warm-up steps is not modelled.")
        return steps + 1
    return steps


def encodes_negative_prompt(spec: ModelSpec, params: ResolvedParams) -> bool:
    """Whether the pipeline runs its text encoders a second time, on the negative prompt."""
    cfg = params.denoiser_passes_per_step == 2
    return cfg and spec.pipeline_class not in ZERO_NEGATIVE_PIPELINES


def _motion_adapter(spec: ModelSpec) -> ComponentSpec | None:
    return next((c for c in spec.components if c.role == "adapter"), None)


def denoiser_forward(
    spec: ModelSpec, params: ResolvedParams, *, negative: bool = False
) -> ForwardFlops:
    """One denoiser pass for one sample; ``negative``: the unconditional pass of CFG
    (it differs only for Mochi, which attends over unpadded text tokens)."""
    comp = spec.denoiser
    config = comp.config
    grid = latent_grid(spec, params)
    text = context_tokens(spec, params)
    name = comp.class_name
    if name == "WanTransformer3DModel":
        return wan.forward(config, grid, text)
    if name == "CogVideoXTransformer3DModel":
        return cogvideox.forward(config, grid, text)
    if name == "MochiTransformer3DModel":
        valid = mochi.valid_text_tokens(params, negative=negative)
        return mochi.forward(config, grid, text, valid)
    if name == "LTXVideoTransformer3DModel":
        return ltx.forward(config, grid, text)
    if name == "HunyuanVideoTransformer3DModel":
        return hunyuanvideo.forward(config, grid, text)
    if name == "SD3Transformer2DModel":
        return mmdit.sd3_forward(config, grid, text)
    if name == "FluxTransformer2DModel":
        return mmdit.flux_forward(config, grid, text)
    if name == "UNet2DConditionModel":
        adapter = _motion_adapter(spec)
        return unet.forward(config, grid, text, adapter.config if adapter else None)
    raise ConfigError(f"genwatt.flops has no formula for the denoiser {name}.")


def text_encoder_forward(
    spec: ModelSpec, params: ResolvedParams, encoder: ComponentSpec
) -> ForwardFlops:
    """One prompt through ``encoder``, padded as the pipeline pads it."""
    tokens = encoder_tokens(spec, params, encoder)
    return text_encoders.encoder_forward(encoder.class_name, encoder.config, tokens)


def vae_decoder_forward(spec: ModelSpec, params: ResolvedParams) -> ForwardFlops:
    """One latent decoded as the pipeline decodes it (AnimateDiff: frame by frame)."""
    comp = next(c for c in spec.components if c.role == "vae")
    grid = latent_grid(spec, params)
    frames_as_images = spec.task == "t2v" and comp.class_name == "AutoencoderKL"
    return vae.decoder_forward(
        comp.class_name, comp.config, grid, frames_as_images=frames_as_images
    )


def component_call_flops(
    spec: ModelSpec, params: ResolvedParams, component: str, *, batch_size: int | None = None
) -> float:
    """The closed form of exactly what ``count_on_meta`` counts: one call of
    ``component`` as the pipeline makes it (see its docstring). ``batch_size`` defaults
    to ``params.batch_size``."""
    batch_size = check_call(spec, params, batch_size)
    comp = spec.component(component)
    if comp.role == "adapter":
        raise ConfigError(
            f"{spec.name}'s {component} runs inside the merged denoiser; use "
            f"{spec.denoiser.name!r} instead."
        )
    if comp.role == "lm":
        return batch_size * decoder_lm.prefill(comp.config, params.max_text_tokens).total
    if comp.role == "text_encoder":
        return batch_size * text_encoder_forward(spec, params, comp).total
    if comp.role == "vae":
        return batch_size * vae_decoder_forward(spec, params).total
    cond = denoiser_forward(spec, params).total
    if params.denoiser_passes_per_step == 2 and spec.cfg_batched:
        return batch_size * (cond + denoiser_forward(spec, params, negative=True).total)
    return batch_size * cond


def _text_generation(spec: ModelSpec, params: ResolvedParams, batch_size: int) -> GenerationFlops:
    config = spec.denoiser.config
    prompt = params.max_text_tokens
    new = params.max_new_tokens or 0
    first = decoder_lm.prefill(config, prompt)
    decode = decoder_lm.decode(config, prompt, new)
    steps = decode.tokens
    # The repeated pass is a decode step; its mean keeps denoise = steps x forward x batch.
    mean_step = (
        ForwardFlops(decode.total / steps, {k: v / steps for k, v in decode.by_part.items()}, 1)
        if steps
        else decoder_lm.decode_step(config, prompt + 1)
    )
    return GenerationFlops(
        text_encoder=0.0,
        denoise=batch_size * decode.total,
        vae_decode=0.0,
        total=batch_size * (first.total + decode.total),
        denoiser_forward=mean_step,
        passes_per_step=1,
        steps=steps,
        prefill=batch_size * first.total,
        decode=batch_size * decode.total,
        prefill_forward=first,
        batch_size=batch_size,
        notes=(
            f"The prompt is taken as {prompt} tokens (genwatt fills prompts to "
            "max_text_tokens); the first new token comes from the prefill.",
        ),
    )


def generation_flops(
    spec: ModelSpec, params: ResolvedParams, *, batch_size: int | None = None
) -> GenerationFlops:
    """FLOPs of one pipeline call generating ``batch_size`` outputs with ``params``
    (default: ``params.batch_size``)."""
    batch_size = check_call(spec, params, batch_size)
    if spec.task == "text":
        return _text_generation(spec, params, batch_size)

    notes: list[str] = []
    steps = scheduler_steps(spec, params)
    if steps != params.steps:
        notes.append(
            f"{spec.scheduler.class_name if spec.scheduler else 'The scheduler'} runs "
            f"{steps} denoiser steps for steps={params.steps}."
        )
    passes = params.denoiser_passes_per_step
    cond = denoiser_forward(spec, params)
    per_step = cond.total
    if passes == 2:
        per_step += denoiser_forward(spec, params, negative=True).total
    if spec.family == "mochi":
        notes.append(
            "Mochi attends over the prompt's real tokens only; the prompt is taken to "
            f"fill {params.max_text_tokens} tokens (an upper bound)."
        )

    encoder_calls = 2 if encodes_negative_prompt(spec, params) else 1
    if passes == 2 and encoder_calls == 1:
        notes.append(f"{spec.pipeline_class} uses zeros for the empty negative prompt.")
    encoders = {c.name: text_encoder_forward(spec, params, c) for c in spec.text_encoders}
    text = batch_size * encoder_calls * sum(f.total for f in encoders.values())

    decoder = vae_decoder_forward(spec, params)
    denoise = batch_size * steps * per_step
    decode = batch_size * decoder.total
    return GenerationFlops(
        text_encoder=text,
        denoise=denoise,
        vae_decode=decode,
        total=text + denoise + decode,
        denoiser_forward=cond,
        passes_per_step=passes,
        steps=steps,
        text_encoder_forwards=encoders,
        vae_decoder=decoder,
        batch_size=batch_size,
        notes=tuple(notes),
    )
