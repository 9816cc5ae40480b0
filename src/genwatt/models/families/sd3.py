"""Stable Diffusion 3 Medium: an MMDiT (joint text-image attention) conditioned by
CLIP-L, CLIP-G and T5-XXL, over a 16-channel VAE.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.families._shared import (
    TINY_TEXT_DIM,
    clip_g,
    clip_l,
    flow_match_scheduler,
    hub_denoiser,
    hub_vae,
    sd_vae_config,
    t5_xxl,
    tiny_clip,
    tiny_form,
    tiny_sd_vae,
    tiny_t5,
)
from genwatt.models.spec import Defaults, ModelSpec, SizeRule, TokenizerSpec

REPO = "stabilityai/stable-diffusion-3-medium-diffusers"

# config.json of the transformer/ folder in stable-diffusion-3-medium-diffusers:
# 24 heads x 64 = 1536, depth 24, 2x2 patches, a learned 192x192 position table.
TRANSFORMER: dict[str, Any] = {
    "sample_size": 128,
    "patch_size": 2,
    "in_channels": 16,
    "num_layers": 24,
    "attention_head_dim": 64,
    "num_attention_heads": 24,
    "joint_attention_dim": 4096,
    "caption_projection_dim": 1536,
    "pooled_projection_dim": 2048,
    "out_channels": 16,
    "pos_embed_max_size": 192,
}

# config.json of the vae/ folder: the SD VAE with 16 latent channels, no quant convs.
VAE: dict[str, Any] = sd_vae_config(
    latent_channels=16,
    sample_size=1024,
    scaling_factor=1.5305,
    shift_factor=0.0609,
    use_quant_conv=False,
    use_post_quant_conv=False,
    force_upcast=True,
)

# scheduler_config.json of the scheduler/ folder.
SCHEDULER = flow_match_scheduler(REPO, shift=3.0)


def _size_rule(pos_embed_max_size: int) -> SizeRule:
    # 8x VAE times 2x2 patch; the position table caps the latent grid.
    return SizeRule(
        16,
        max_px=pos_embed_max_size * 16,
        reason="StableDiffusion3Pipeline requires multiples of 16 (8x VAE, 2x2 patch), "
        "and pos_embed_max_size caps the size",
    )


SD3_MEDIUM = ModelSpec(
    name="sd3-medium",
    repo_id=REPO,
    task="t2i",
    family="sd3",
    pipeline_class="StableDiffusion3Pipeline",
    components=(
        hub_denoiser(
            REPO,
            "SD3Transformer2DModel",
            TRANSFORMER,
            params=2_028_328_000,
            published_params=2e9,
            published_source=f"{REPO} model card: '2 billion parameter' MMDiT",
        ),
        hub_vae(REPO, "AutoencoderKL", VAE, 83_819_683),
        clip_l("text_encoder", REPO, "text_encoder", with_projection=True),
        clip_g("text_encoder_2", REPO, "text_encoder_2"),
        t5_xxl("text_encoder_3", REPO, "text_encoder_3"),
    ),
    tokenizers=(
        TokenizerSpec("tokenizer", "clip", 77),
        TokenizerSpec("tokenizer_2", "clip", 77, pad_token="!"),
        TokenizerSpec("tokenizer_3", "t5", 512),
    ),
    scheduler=SCHEDULER,
    defaults=Defaults(
        height=1024,
        width=1024,
        steps=28,
        guidance=7.0,
        max_text_tokens=256,
        source=f"{REPO} model card (28 steps, guidance 7.0) and pipeline defaults",
    ),
    torch_dtype="float16",
    tiny_name="sd3-tiny",
    size_rule=_size_rule(192),
    guidance_kind="cfg",
    max_text_tokens_limit=512,
    aliases=(REPO, "stabilityai/stable-diffusion-3-medium", "sd3"),
    published_params=2e9,
)

# --- tiny ------------------------------------------------------------------------------
# Both CLIPs at 32 wide, T5 at 64: the pipeline pads the concatenated CLIP states
# (32 + 32) to the T5 width, as it pads 768 + 1280 to 4096.

_TINY_T5_DIM = 2 * TINY_TEXT_DIM

TINY_TRANSFORMER: dict[str, Any] = {
    **TRANSFORMER,
    "sample_size": 32,
    "num_layers": 2,
    "attention_head_dim": 16,
    "num_attention_heads": 2,
    "joint_attention_dim": _TINY_T5_DIM,
    "caption_projection_dim": 32,
    "pooled_projection_dim": 2 * TINY_TEXT_DIM,
    "pos_embed_max_size": 16,
}

SD3_TINY = tiny_form(
    SD3_MEDIUM,
    TINY_TRANSFORMER,
    82_816,
    tiny_sd_vae(SD3_MEDIUM),
    (
        tiny_clip("text_encoder", with_projection=True),
        tiny_clip("text_encoder_2", with_projection=True),
        tiny_t5("text_encoder_3", d_model=_TINY_T5_DIM),
    ),
    size_rule=_size_rule(TINY_TRANSFORMER["pos_embed_max_size"]),
)

SPECS: tuple[ModelSpec, ...] = (SD3_MEDIUM, SD3_TINY)
