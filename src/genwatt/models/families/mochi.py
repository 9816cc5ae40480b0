"""Mochi 1 (Genmo): an asymmetric DiT over a VAE that compresses 6x in time, 8x in space.

Video tokens are wide (3072) and text tokens narrow (1536); the VAE encoder has
attention but only its decoder runs at generation.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.families._shared import (
    TINY_TEXT_DIM,
    flow_match_scheduler,
    hub_denoiser,
    hub_vae,
    t5_xxl,
    tiny_form,
    tiny_t5,
)
from genwatt.models.spec import Defaults, FrameRule, ModelSpec, SizeRule, TokenizerSpec

REPO = "genmo/mochi-1-preview"

# config.json of the transformer/ folder in genmo/mochi-1-preview: 24 heads x 128 =
# 3072, 48 layers, 12 latent channels.
TRANSFORMER: dict[str, Any] = {
    "patch_size": 2,
    "num_attention_heads": 24,
    "attention_head_dim": 128,
    "num_layers": 48,
    "pooled_projection_dim": 1536,
    "in_channels": 12,
    "out_channels": None,
    "qk_norm": "rms_norm",
    "text_embed_dim": 4096,
    "time_embed_dim": 256,
    "activation_fn": "swiglu",
    "max_sequence_length": 256,
}

# config.json of the vae/ folder in genmo/mochi-1-preview (AutoencoderKLMochi): time
# expansions 1, 2, 3 (6x), space 2, 2, 2 (8x).
VAE: dict[str, Any] = {
    "in_channels": 15,
    "out_channels": 3,
    "encoder_block_out_channels": [64, 128, 256, 384],
    "decoder_block_out_channels": [128, 256, 512, 768],
    "latent_channels": 12,
    "layers_per_block": [3, 3, 4, 6, 3],
    "act_fn": "silu",
    "temporal_expansions": [1, 2, 3],
    "spatial_expansions": [2, 2, 2],
    "add_attention_block": [False, True, True, True, True],
    "scaling_factor": 1.0,
}

# scheduler_config.json of the scheduler/ folder: Mochi counts time backwards, hence
# inverted sigmas; MochiPipeline passes its own linear-quadratic sigma schedule.
SCHEDULER = flow_match_scheduler(REPO, shift=1.0, invert_sigmas=True)

# MochiPipeline checks multiples of 8; the 2x2 patch needs an even latent (16).
_SIZE = SizeRule(16, reason="8x VAE times the transformer's 2x2 patch")
_FRAMES = FrameRule(6, "latent_floor")

MOCHI = ModelSpec(
    name="mochi-1-preview",
    repo_id=REPO,
    task="t2v",
    family="mochi",
    pipeline_class="MochiPipeline",
    components=(
        hub_denoiser(
            REPO,
            "MochiTransformer3DModel",
            TRANSFORMER,
            params=10_027_677_744,
            published_params=10e9,
            published_source="Genmo's Mochi 1 announcement: '10 billion parameter diffusion model'",
        ),
        # 97M encoder + 363M decoder; Genmo's "362M" for the VAE counts the decoder alone.
        hub_vae(REPO, "AutoencoderKLMochi", VAE, 459_748_611),
        t5_xxl("text_encoder", REPO, "text_encoder"),
    ),
    tokenizers=(TokenizerSpec("tokenizer", "t5", 256),),
    scheduler=SCHEDULER,
    defaults=Defaults(
        height=480,
        width=848,
        num_frames=163,
        fps=30,  # model card: up to 5.4 s at 30 fps (163 frames)
        steps=64,
        guidance=4.5,
        max_text_tokens=256,
        source=(
            "Genmo's reference sampler (848x480, 163 frames = 5.4 s at 30 fps, 64 steps) "
            "and MochiPipeline.__call__ (guidance 4.5, 256 text tokens)"
        ),
    ),
    torch_dtype="bfloat16",
    tiny_name="mochi-tiny",
    size_rule=_SIZE,
    frame_rule=_FRAMES,
    guidance_kind="cfg",
    max_text_tokens_limit=512,
    # MochiPipeline's linear-quadratic sigma schedule divides by num_steps // 2.
    min_steps=2,
    aliases=(REPO,),
    published_params=10e9,
)

# --- tiny ------------------------------------------------------------------------------
# The VAE's group norms have 32 groups and its attention 32-channel heads, so 32 is the
# narrowest width it takes; one layer per level keeps the 6x/8x expansions.

TINY_TRANSFORMER: dict[str, Any] = {
    **TRANSFORMER,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "num_layers": 2,
    "pooled_projection_dim": 16,
    "text_embed_dim": TINY_TEXT_DIM,
    "time_embed_dim": 32,
    "max_sequence_length": 16,
}

TINY_VAE: dict[str, Any] = {
    **VAE,
    "encoder_block_out_channels": [32, 32, 32, 32],
    "decoder_block_out_channels": [32, 32, 32, 32],
    "layers_per_block": [1, 1, 1, 1, 1],
}

MOCHI_TINY = tiny_form(
    MOCHI, TINY_TRANSFORMER, 53_584, TINY_VAE, (tiny_t5("text_encoder"),), num_frames=13
)

SPECS: tuple[ModelSpec, ...] = (MOCHI, MOCHI_TINY)
