"""The latent grid a pipeline denoises, and how many text tokens each encoder reads.

Both the closed forms and the meta-device counter start from these numbers, so a
disagreement between them can only come from the formulas, never from two readings of
the pipeline's size arithmetic. Pure Python: importing this costs nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from genwatt.errors import ConfigError
from genwatt.models.params import ResolvedParams
from genwatt.models.spec import ComponentSpec, ModelSpec

# HunyuanVideoPipeline's DEFAULT_PROMPT_TEMPLATE: its Llama reads this many template
# tokens in front of the prompt and the pipeline drops them afterwards ("crop_start").
HUNYUAN_TEMPLATE_TOKENS = 95


@dataclass(frozen=True)
class LatentGrid:
    """The latent tensor one sample of the denoiser sees (frames = 1 for images)."""

    channels: int
    frames: int
    height: int
    width: int


def vae_factors(vae: ComponentSpec) -> tuple[int, int]:
    """(spatial, temporal) compression of a VAE, read from its config as diffusers does."""
    c = vae.config
    name = vae.class_name
    if name == "AutoencoderKLWan":
        down = c["temperal_downsample"]
        return 2 ** len(down), 2 ** sum(bool(d) for d in down)
    if name == "AutoencoderKLCogVideoX":
        return 2 ** (len(c["block_out_channels"]) - 1), c["temporal_compression_ratio"]
    if name == "AutoencoderKLMochi":
        return math.prod(c["spatial_expansions"]), math.prod(c["temporal_expansions"])
    if name == "AutoencoderKLLTXVideo":
        scaling = c["spatio_temporal_scaling"]
        return c["patch_size"] * 2 ** sum(scaling), c["patch_size_t"] * 2 ** sum(scaling)
    if name == "AutoencoderKLHunyuanVideo":
        return c["spatial_compression_ratio"], c["temporal_compression_ratio"]
    if name == "AutoencoderKL":
        return 2 ** (len(c["block_out_channels"]) - 1), 1
    if name == "PatchCodec":  # wan-reference: pixel patches as channels, time untouched
        return c["patch_px"], c.get("scale_factor_temporal", 1)
    raise ConfigError(f"genwatt.flops does not know the VAE class {name!r}.")


def _vae(spec: ModelSpec) -> ComponentSpec:
    for comp in spec.components:
        if comp.role == "vae":
            return comp
    raise ConfigError(f"{spec.name} has no VAE; it is a {spec.task} model.")


def latent_grid(spec: ModelSpec, params: ResolvedParams) -> LatentGrid:
    """The latent one sample is denoised in: ``(C, F, H, W)`` as the pipeline makes it."""
    if spec.task == "text" or params.height is None or params.width is None:
        raise ConfigError(f"{spec.name} is a text model; it has no latent grid.")
    vae = _vae(spec)
    spatial, _ = vae_factors(vae)
    channels = vae.config.get("latent_channels", vae.config.get("z_dim"))
    frames = params.latent_frames if params.latent_frames is not None else 1
    return LatentGrid(int(channels), int(frames), params.height // spatial, params.width // spatial)


def clip_tokens(spec: ModelSpec) -> int:
    """CLIP encoders always read their tokenizer's full 77 (padding="max_length")."""
    for tok in spec.tokenizers:
        if tok.kind == "clip":
            return tok.model_max_length
    return 77


def encoder_tokens(spec: ModelSpec, params: ResolvedParams, encoder: ComponentSpec) -> int:
    """Tokens one prompt occupies in ``encoder``, padding included (pipelines pad to max)."""
    if encoder.class_name.startswith("CLIP"):
        return clip_tokens(spec)
    if encoder.class_name == "LlamaModel":
        return params.max_text_tokens + HUNYUAN_TEMPLATE_TOKENS
    if encoder.class_name in ("T5EncoderModel", "UMT5EncoderModel"):
        return params.max_text_tokens
    raise ConfigError(f"genwatt.flops does not know the text encoder {encoder.class_name!r}.")


def context_tokens(spec: ModelSpec, params: ResolvedParams) -> int:
    """Text tokens the denoiser receives per sample (its cross/joint attention context).

    SD3 concatenates the 77 CLIP tokens and the T5 tokens; HunyuanVideo keeps the prompt
    part of its Llama sequence; CLIP-only pipelines pass 77.
    """
    names = {c.class_name for c in spec.text_encoders}
    if spec.pipeline_class == "StableDiffusion3Pipeline":
        return clip_tokens(spec) + params.max_text_tokens
    if names and all(n.startswith("CLIP") for n in names):
        return clip_tokens(spec)
    return params.max_text_tokens
