"""CogVideoX (Zhipu AI / THUDM): an expert-adaptive-LayerNorm DiT over a 3D causal VAE.

Text and video tokens share one sequence (full attention), so the 226 text tokens are
paid in every layer. The 2B model uses sinusoidal positions, the 5B model 3D RoPE.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.families._shared import (
    TINY_TEXT_DIM,
    hub_denoiser,
    hub_vae,
    scheduler_source,
    t5_xxl,
    tiny_form,
    tiny_t5,
)
from genwatt.models.spec import (
    Defaults,
    FrameRule,
    ModelSpec,
    SchedulerSpec,
    SizeRule,
    TokenizerSpec,
)

REPO_2B = "THUDM/CogVideoX-2b"
REPO_5B = "THUDM/CogVideoX-5b"

# config.json of the transformer/ folder in THUDM/CogVideoX-2b: 30 heads x 64 = 1920,
# 30 layers, sinusoidal positions for 49 frames at 480x720.
TRANSFORMER_2B: dict[str, Any] = {
    "num_attention_heads": 30,
    "attention_head_dim": 64,
    "in_channels": 16,
    "out_channels": 16,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "time_embed_dim": 512,
    "text_embed_dim": 4096,
    "num_layers": 30,
    "dropout": 0.0,
    "attention_bias": True,
    "sample_width": 90,
    "sample_height": 60,
    "sample_frames": 49,
    "patch_size": 2,
    "temporal_compression_ratio": 4,
    "max_text_seq_length": 226,
    "activation_fn": "gelu-approximate",
    "timestep_activation_fn": "silu",
    "norm_elementwise_affine": True,
    "norm_eps": 1e-5,
    "spatial_interpolation_scale": 1.875,
    "temporal_interpolation_scale": 1.0,
    "use_rotary_positional_embeddings": False,
    "use_learned_positional_embeddings": False,
}

# config.json of the transformer/ folder in THUDM/CogVideoX-5b: 48 heads x 64 = 3072,
# 42 layers, 3D rotary positions instead of sinusoidal ones.
TRANSFORMER_5B: dict[str, Any] = {
    **TRANSFORMER_2B,
    "num_attention_heads": 48,
    "num_layers": 42,
    "use_rotary_positional_embeddings": True,
}

# config.json of the vae/ folder in THUDM/CogVideoX-2b (CogVideoX-5b differs only in
# scaling_factor 0.7): 8x space, 4x time, 16 latent channels.
VAE_2B: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["CogVideoXDownBlock3D"] * 4,
    "up_block_types": ["CogVideoXUpBlock3D"] * 4,
    "block_out_channels": [128, 256, 256, 512],
    "latent_channels": 16,
    "layers_per_block": 3,
    "act_fn": "silu",
    "norm_eps": 1e-6,
    "norm_num_groups": 32,
    "temporal_compression_ratio": 4,
    "sample_height": 480,
    "sample_width": 720,
    "scaling_factor": 1.15258426,
    "force_upcast": True,
    "use_quant_conv": False,
    "use_post_quant_conv": False,
}
VAE_5B: dict[str, Any] = {**VAE_2B, "scaling_factor": 0.7}


def _scheduler(repo: str, snr_shift_scale: float) -> SchedulerSpec:
    # scheduler_config.json of the scheduler/ folder: v-prediction DDIM with zero
    # terminal SNR. (THUDM's demo swaps in CogVideoXDPMScheduler for 5B; the cost per
    # step is the same.)
    return SchedulerSpec(
        class_name="CogVideoXDDIMScheduler",
        config={
            "num_train_timesteps": 1000,
            "beta_start": 0.00085,
            "beta_end": 0.012,
            "beta_schedule": "scaled_linear",
            "clip_sample": False,
            "set_alpha_to_one": True,
            "steps_offset": 0,
            "prediction_type": "v_prediction",
            "clip_sample_range": 1.0,
            "sample_max_value": 1.0,
            "timestep_spacing": "trailing",
            "rescale_betas_zero_snr": True,
            "snr_shift_scale": snr_shift_scale,
        },
        source=scheduler_source(repo),
    )


# The pipeline checks multiples of 8, but the 2x2 patch of the transformer needs an even
# latent, so anything that is not a multiple of 16 fails inside the model.
_SIZE = SizeRule(16, reason="8x VAE times the transformer's 2x2 patch")
_FRAMES = FrameRule(4, "cogvideox_decode")
_TOKENIZER = (TokenizerSpec("tokenizer", "t5", 226),)


def _real(
    name: str,
    repo: str,
    transformer: dict[str, Any],
    vae: dict[str, Any],
    params: int,
    published: float,
    dtype: str,
    snr_shift_scale: float,
) -> ModelSpec:
    return ModelSpec(
        name=name,
        repo_id=repo,
        task="t2v",
        family="cogvideox",
        pipeline_class="CogVideoXPipeline",
        components=(
            hub_denoiser(
                repo,
                "CogVideoXTransformer3DModel",
                transformer,
                params=params,
                published_params=published,
                published_source=f"the model name and the {repo} model card",
            ),
            hub_vae(repo, "AutoencoderKLCogVideoX", vae, 215_583_907),
            t5_xxl("text_encoder", repo, "text_encoder"),
        ),
        tokenizers=_TOKENIZER,
        scheduler=_scheduler(repo, snr_shift_scale),
        defaults=Defaults(
            height=480,
            width=720,
            num_frames=49,
            fps=8,  # model card: 6 s at 8 fps
            steps=50,
            guidance=6.0,
            max_text_tokens=226,
            source=f"{repo} model card (49 frames at 8 fps, 50 steps, guidance 6)",
        ),
        torch_dtype=dtype,
        tiny_name="cogvideox-tiny",
        size_rule=_SIZE,
        frame_rule=_FRAMES,
        guidance_kind="cfg",
        # 2B bakes the text length into its joint positional table, and the pipeline asks
        # both models for max_sequence_length == the transformer's max_text_seq_length.
        max_text_tokens_limit=226,
        text_tokens_fixed=True,
        aliases=(repo,),
        published_params=published,
    )


COGVIDEOX_2B = _real(
    "cogvideox-2b", REPO_2B, TRANSFORMER_2B, VAE_2B, 1_693_783_872, 2e9, "float16", 3.0
)
COGVIDEOX_5B = _real(
    "cogvideox-5b", REPO_5B, TRANSFORMER_5B, VAE_5B, 5_570_283_072, 5e9, "bfloat16", 1.0
)

# --- tiny ------------------------------------------------------------------------------
# The 5B layout (rotary positions) at 2 heads x 16 and 2 layers; the VAE keeps its four
# levels and 4x temporal compression at 1/16 of the width.

_TINY_TOKENS = 16

TINY_TRANSFORMER: dict[str, Any] = {
    **TRANSFORMER_5B,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "time_embed_dim": 32,
    "text_embed_dim": TINY_TEXT_DIM,
    "num_layers": 2,
    "sample_width": 4,
    "sample_height": 4,
    "sample_frames": 9,
    "max_text_seq_length": _TINY_TOKENS,
}

TINY_VAE: dict[str, Any] = {
    **VAE_5B,
    "block_out_channels": [8, 16, 16, 32],
    "layers_per_block": 1,
    "norm_num_groups": 4,
    "sample_height": 32,
    "sample_width": 32,
}

COGVIDEOX_TINY = tiny_form(
    COGVIDEOX_5B,
    TINY_TRANSFORMER,
    60_480,
    TINY_VAE,
    (tiny_t5("text_encoder"),),
    max_text_tokens=_TINY_TOKENS,
    tokenizers=(TokenizerSpec("tokenizer", "t5", _TINY_TOKENS),),
    max_text_tokens_limit=_TINY_TOKENS,
)

SPECS: tuple[ModelSpec, ...] = (COGVIDEOX_2B, COGVIDEOX_5B, COGVIDEOX_TINY)
