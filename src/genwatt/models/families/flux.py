"""FLUX.1 (Black Forest Labs): 19 double-stream and 38 single-stream MMDiT blocks,
12B parameters, conditioned by T5-XXL (sequence) and CLIP-L (pooled).

[dev] is guidance-distilled: the scale is an input, one pass per step. [schnell] is
timestep-distilled to 4 steps and ignores guidance.
"""

from __future__ import annotations

from typing import Any, Literal

from genwatt.models.families._shared import (
    TINY_TEXT_DIM,
    clip_l,
    flow_match_scheduler,
    hub_denoiser,
    hub_vae,
    resolution_shifted_scheduler,
    sd_vae_config,
    t5_xxl,
    tiny_clip,
    tiny_form,
    tiny_sd_vae,
    tiny_t5,
)
from genwatt.models.spec import Defaults, ModelSpec, SchedulerSpec, SizeRule, TokenizerSpec

REPO_DEV = "black-forest-labs/FLUX.1-dev"
REPO_SCHNELL = "black-forest-labs/FLUX.1-schnell"

# config.json of the transformer/ folder in black-forest-labs/FLUX.1-dev: 24 heads x 128
# = 3072, 64 input channels (16 latent channels packed 2x2), rope axes 16 + 56 + 56.
TRANSFORMER_DEV: dict[str, Any] = {
    "patch_size": 1,
    "in_channels": 64,
    "out_channels": None,
    "num_layers": 19,
    "num_single_layers": 38,
    "attention_head_dim": 128,
    "num_attention_heads": 24,
    "joint_attention_dim": 4096,
    "pooled_projection_dim": 768,
    "guidance_embeds": True,
    "axes_dims_rope": [16, 56, 56],
}

# config.json of the transformer/ folder in FLUX.1-schnell: no guidance embedder (its two
# linear layers, 256 -> 3072 -> 3072, are the 10.2M parameters schnell has less).
TRANSFORMER_SCHNELL: dict[str, Any] = {**TRANSFORMER_DEV, "guidance_embeds": False}

# config.json of the vae/ folder (both repos).
VAE: dict[str, Any] = sd_vae_config(
    latent_channels=16,
    sample_size=1024,
    scaling_factor=0.3611,
    shift_factor=0.1159,
    use_quant_conv=False,
    use_post_quant_conv=False,
    force_upcast=True,
)

# scheduler_config.json of the scheduler/ folder in FLUX.1-dev: the shift grows with the
# image token count.
SCHEDULER_DEV = resolution_shifted_scheduler(REPO_DEV, 3.0, 0.5, 1.15, (256, 4096))

# scheduler_config.json of the scheduler/ folder in FLUX.1-schnell.
SCHEDULER_SCHNELL = flow_match_scheduler(REPO_SCHNELL, shift=1.0, use_dynamic_shifting=False)

# FluxPipeline only warns and floors to a multiple of 16 (8x VAE, 2x2 packing); we
# refuse instead, so that the size measured is the size asked for.
_SIZE = SizeRule(16, reason="8x VAE times the 2x2 latent packing of FluxPipeline")
_TOKENIZERS = (TokenizerSpec("tokenizer", "clip", 77), TokenizerSpec("tokenizer_2", "t5", 512))


def _real(
    name: str,
    repo: str,
    transformer: dict[str, Any],
    params: int,
    scheduler: SchedulerSpec,
    *,
    steps: int,
    guidance: float,
    max_text_tokens: int,
    card: str,
    guidance_kind: Literal["embedded", "none"],
    alias: str,
) -> ModelSpec:
    """[dev] and [schnell]: the same pipeline, VAE, encoders and limits, both at 1024 px;
    ``card`` is what the model card says of the other defaults."""
    return ModelSpec(
        name=name,
        repo_id=repo,
        task="t2i",
        family="flux",
        pipeline_class="FluxPipeline",
        components=(
            hub_denoiser(
                repo,
                "FluxTransformer2DModel",
                transformer,
                params=params,
                published_params=12e9,
                published_source=(
                    f"{repo} model card: '12 billion parameter rectified flow transformer'"
                ),
            ),
            hub_vae(repo, "AutoencoderKL", VAE, 83_819_683),
            clip_l("text_encoder", repo, "text_encoder"),
            t5_xxl("text_encoder_2", repo, "text_encoder_2"),
        ),
        tokenizers=_TOKENIZERS,
        scheduler=scheduler,
        defaults=Defaults(
            height=1024,
            width=1024,
            steps=steps,
            guidance=guidance,
            max_text_tokens=max_text_tokens,
            source=f"{repo} model card ({card})",
        ),
        torch_dtype="bfloat16",
        tiny_name="flux-tiny",
        size_rule=_SIZE,
        guidance_kind=guidance_kind,
        max_text_tokens_limit=512,
        aliases=(repo, alias),
        published_params=12e9,
    )


FLUX_DEV = _real(
    "flux.1-dev",
    REPO_DEV,
    TRANSFORMER_DEV,
    11_901_408_320,
    SCHEDULER_DEV,
    steps=50,
    guidance=3.5,
    max_text_tokens=512,
    card="1024x1024, 50 steps, guidance 3.5, 512 tokens",
    guidance_kind="embedded",
    alias="flux-dev",
)

FLUX_SCHNELL = _real(
    "flux.1-schnell",
    REPO_SCHNELL,
    TRANSFORMER_SCHNELL,
    11_891_178_560,
    SCHEDULER_SCHNELL,
    steps=4,
    guidance=0.0,
    max_text_tokens=256,
    card="4 steps, guidance 0, 256 tokens",
    guidance_kind="none",
    alias="flux-schnell",
)

# --- tiny ------------------------------------------------------------------------------
# One block of each stream, 2 heads x 16 (rope axes 4 + 6 + 6), the [dev] layout with
# its guidance embedder.

TINY_TRANSFORMER: dict[str, Any] = {
    **TRANSFORMER_DEV,
    "num_layers": 1,
    "num_single_layers": 1,
    "attention_head_dim": 16,
    "num_attention_heads": 2,
    "joint_attention_dim": TINY_TEXT_DIM,
    "pooled_projection_dim": TINY_TEXT_DIM,
    "axes_dims_rope": [4, 6, 6],
}

FLUX_TINY = tiny_form(
    FLUX_DEV,
    TINY_TRANSFORMER,
    81_664,
    tiny_sd_vae(FLUX_DEV),
    (tiny_clip("text_encoder"), tiny_t5("text_encoder_2")),
)

SPECS: tuple[ModelSpec, ...] = (FLUX_DEV, FLUX_SCHNELL, FLUX_TINY)
