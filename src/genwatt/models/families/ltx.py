"""LTX-Video 0.9 (Lightricks): a DiT over a 1:192 VAE (32x space, 8x time, 128 channels).

The VAE does most of the patchifying, so the transformer sees one token per latent pixel
(patch size 1) and the token count is small for the resolution: fast, real-time video.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.families._shared import (
    TINY_TEXT_DIM,
    hub_denoiser,
    hub_vae,
    resolution_shifted_scheduler,
    t5_xxl,
    tiny_form,
    tiny_t5,
)
from genwatt.models.spec import Defaults, FrameRule, ModelSpec, SizeRule, TokenizerSpec

REPO = "Lightricks/LTX-Video"

# config.json of the transformer/ folder in Lightricks/LTX-Video (0.9.0 diffusers
# layout): 32 heads x 64 = 2048, 28 layers, 128 latent channels.
TRANSFORMER: dict[str, Any] = {
    "in_channels": 128,
    "out_channels": 128,
    "patch_size": 1,
    "patch_size_t": 1,
    "num_attention_heads": 32,
    "attention_head_dim": 64,
    "cross_attention_dim": 2048,
    "num_layers": 28,
    "activation_fn": "gelu-approximate",
    "qk_norm": "rms_norm_across_heads",
    "norm_elementwise_affine": False,
    "norm_eps": 1e-6,
    "caption_channels": 4096,
    "attention_bias": True,
    "attention_out_bias": True,
}

# config.json of the vae/ folder in Lightricks/LTX-Video: a 4x4 pixel patch, then three
# space-time downsamples: 4 * 2^3 = 32x space, 2^3 = 8x time.
VAE: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 128,
    "block_out_channels": [128, 256, 512, 512],
    "decoder_block_out_channels": [128, 256, 512, 512],
    "layers_per_block": [4, 3, 3, 3, 4],
    "decoder_layers_per_block": [4, 3, 3, 3, 4],
    "spatio_temporal_scaling": [True, True, True, False],
    "decoder_spatio_temporal_scaling": [True, True, True, False],
    "decoder_inject_noise": [False, False, False, False, False],
    "upsample_residual": [False, False, False, False],
    "upsample_factor": [1, 1, 1, 1],
    "timestep_conditioning": False,
    "patch_size": 4,
    "patch_size_t": 1,
    "resnet_norm_eps": 1e-6,
    "scaling_factor": 1.0,
    "encoder_causal": True,
    "decoder_causal": False,
}

# scheduler_config.json of the scheduler/ folder: flow matching with a resolution
# dependent shift (between 0.95 and 2.05) and a terminal shift of 0.1.
SCHEDULER = resolution_shifted_scheduler(
    REPO, 1.0, 0.95, 2.05, (1024, 4096), shift_terminal=0.1, invert_sigmas=False
)

_SIZE = SizeRule(32, reason="LTXPipeline.check_inputs requires multiples of 32")
_FRAMES = FrameRule(8, "latent_floor")

LTX = ModelSpec(
    name="ltx-video",
    repo_id=REPO,
    task="t2v",
    family="ltx",
    pipeline_class="LTXPipeline",
    components=(
        hub_denoiser(
            REPO,
            "LTXVideoTransformer3DModel",
            TRANSFORMER,
            params=1_923_385_472,
            published_params=1.9e9,
            published_source="HaCohen et al. 2024, 'LTX-Video: Realtime Video Latent Diffusion'",
        ),
        hub_vae(REPO, "AutoencoderKLLTXVideo", VAE, 419_193_649),
        t5_xxl("text_encoder", REPO, "text_encoder"),
    ),
    tokenizers=(TokenizerSpec("tokenizer", "t5", 128),),
    scheduler=SCHEDULER,
    defaults=Defaults(
        height=480,
        width=704,
        num_frames=161,
        fps=24,  # model card: 24 fps video
        steps=50,
        guidance=3.0,
        max_text_tokens=128,
        source=f"{REPO} model card (704x480, 161 frames, 50 steps) and LTXPipeline defaults",
    ),
    torch_dtype="bfloat16",
    tiny_name="ltx-tiny",
    size_rule=_SIZE,
    frame_rule=_FRAMES,
    guidance_kind="cfg",
    max_text_tokens_limit=512,
    # LTX's terminal shift (shift_terminal) divides by zero with a single sigma.
    min_steps=2,
    aliases=(REPO,),
    published_params=1.9e9,
)

# --- tiny ------------------------------------------------------------------------------
# Same 32x/8x compression and 128 latent channels, one layer per level at 8-32 wide.

TINY_TRANSFORMER: dict[str, Any] = {
    **TRANSFORMER,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "cross_attention_dim": 32,
    "num_layers": 2,
    "caption_channels": TINY_TEXT_DIM,
}

TINY_VAE: dict[str, Any] = {
    **VAE,
    "block_out_channels": [8, 16, 32, 32],
    "decoder_block_out_channels": [8, 16, 32, 32],
    "layers_per_block": [1, 1, 1, 1, 1],
    "decoder_layers_per_block": [1, 1, 1, 1, 1],
}

LTX_TINY = tiny_form(LTX, TINY_TRANSFORMER, 60_384, TINY_VAE, (tiny_t5("text_encoder"),), size=64)

SPECS: tuple[ModelSpec, ...] = (LTX, LTX_TINY)
