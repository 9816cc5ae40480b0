"""Stable Diffusion 1.5 and SDXL base 1.0: latent UNets conditioned by CLIP.

SDXL drops the deepest level, adds two more transformer layers at 2x and ten at 4x
downsampling, a second (bigG) text encoder, and size/crop conditioning.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.families._shared import (
    CLIP_ONLY_PROMPTS,
    TINY_TEXT_DIM,
    clip_g,
    clip_l,
    diffusers_part,
    hub_source,
    sd_vae_config,
    tiny_clip,
    tiny_part,
    tiny_sd_vae,
    tiny_spec,
)
from genwatt.models.spec import (
    Defaults,
    ModelSpec,
    SchedulerSpec,
    SizeRule,
    TokenizerSpec,
)

REPO_SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
REPO_SDXL = "stabilityai/stable-diffusion-xl-base-1.0"

# config.json of the unet/ folder in stable-diffusion-v1-5/stable-diffusion-v1-5.
UNET_SD15: dict[str, Any] = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "center_input_sample": False,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "down_block_types": [
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "DownBlock2D",
    ],
    "up_block_types": [
        "UpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
    ],
    "block_out_channels": [320, 640, 1280, 1280],
    "layers_per_block": 2,
    "downsample_padding": 1,
    "mid_block_scale_factor": 1,
    "act_fn": "silu",
    "norm_num_groups": 32,
    "norm_eps": 1e-5,
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
}

# config.json of the unet/ folder in stabilityai/stable-diffusion-xl-base-1.0.
UNET_SDXL: dict[str, Any] = {
    "sample_size": 128,
    "in_channels": 4,
    "out_channels": 4,
    "center_input_sample": False,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "block_out_channels": [320, 640, 1280],
    "layers_per_block": 2,
    "downsample_padding": 1,
    "mid_block_scale_factor": 1,
    "act_fn": "silu",
    "norm_num_groups": 32,
    "norm_eps": 1e-5,
    "cross_attention_dim": 2048,
    "transformer_layers_per_block": [1, 2, 10],
    "attention_head_dim": [5, 10, 20],
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
}

# scheduler_config.json of the scheduler/ folder in stable-diffusion-v1-5.
SCHEDULER_SD15 = SchedulerSpec(
    class_name="PNDMScheduler",
    config={
        "num_train_timesteps": 1000,
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "beta_schedule": "scaled_linear",
        "skip_prk_steps": True,
        "set_alpha_to_one": False,
        "steps_offset": 1,
    },
    source=f"scheduler_config.json of the scheduler/ folder in {REPO_SD15}",
)

# scheduler_config.json of the scheduler/ folder in stable-diffusion-xl-base-1.0.
SCHEDULER_SDXL = SchedulerSpec(
    class_name="EulerDiscreteScheduler",
    config={
        "num_train_timesteps": 1000,
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "beta_schedule": "scaled_linear",
        "prediction_type": "epsilon",
        "interpolation_type": "linear",
        "use_karras_sigmas": False,
        "timestep_spacing": "leading",
        "steps_offset": 1,
    },
    source=f"scheduler_config.json of the scheduler/ folder in {REPO_SDXL}",
)

_SIZE = SizeRule(8, reason="the pipelines' check_inputs require multiples of 8")

# What the random and tiny builds leave out: the safety checker and its feature extractor
# (SD 1.5) and the invisible watermark (SDXL). The pretrained path keeps what the repo has.
_SD15_KWARGS = {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}
_SDXL_KWARGS = {"add_watermarker": False}

SD15 = ModelSpec(
    name="sd1.5",
    repo_id=REPO_SD15,
    task="t2i",
    family="sd",
    pipeline_class="StableDiffusionPipeline",
    components=(
        diffusers_part(
            "unet",
            "denoiser",
            "UNet2DConditionModel",
            UNET_SD15,
            hub_source(REPO_SD15, "unet"),
            params=859_520_964,
            published_params=860e6,
            published_source=f"{REPO_SD15} model card: '860M UNet and 123M text encoder'",
        ),
        diffusers_part(
            "vae",
            "vae",
            "AutoencoderKL",
            sd_vae_config(),
            hub_source(REPO_SD15, "vae"),
            params=83_653_863,
        ),
        clip_l("text_encoder", REPO_SD15, "text_encoder"),
    ),
    tokenizers=(TokenizerSpec("tokenizer", "clip", 77),),
    scheduler=SCHEDULER_SD15,
    defaults=Defaults(
        height=512,
        width=512,
        steps=50,
        guidance=7.5,
        max_text_tokens=77,
        source="StableDiffusionPipeline.__call__ defaults (512 = unet sample_size x 8)",
    ),
    torch_dtype="float16",
    tiny_name="sd-tiny",
    size_rule=_SIZE,
    guidance_kind="cfg",
    pipeline_kwargs=_SD15_KWARGS,
    aliases=(REPO_SD15, "runwayml/stable-diffusion-v1-5", "stable-diffusion-v1-5"),
    published_params=860e6,
    **CLIP_ONLY_PROMPTS,
)

SDXL = ModelSpec(
    name="sdxl-base-1.0",
    repo_id=REPO_SDXL,
    task="t2i",
    family="sdxl",
    pipeline_class="StableDiffusionXLPipeline",
    components=(
        diffusers_part(
            "unet",
            "denoiser",
            "UNet2DConditionModel",
            UNET_SDXL,
            hub_source(REPO_SDXL, "unet"),
            params=2_567_463_684,
            published_params=2.6e9,
            published_source="Podell et al. 2023 (SDXL paper): '2.6B parameters' in the UNet",
        ),
        diffusers_part(
            "vae",
            "vae",
            "AutoencoderKL",
            sd_vae_config(sample_size=1024, scaling_factor=0.13025, force_upcast=True),
            hub_source(REPO_SDXL, "vae"),
            params=83_653_863,
        ),
        clip_l("text_encoder", REPO_SDXL, "text_encoder"),
        clip_g("text_encoder_2", REPO_SDXL, "text_encoder_2"),
    ),
    tokenizers=(
        TokenizerSpec("tokenizer", "clip", 77),
        TokenizerSpec("tokenizer_2", "clip", 77, pad_token="!"),
    ),
    scheduler=SCHEDULER_SDXL,
    defaults=Defaults(
        height=1024,
        width=1024,
        steps=50,
        guidance=5.0,
        max_text_tokens=77,
        source="StableDiffusionXLPipeline.__call__ defaults (1024 = unet sample_size x 8)",
    ),
    torch_dtype="float16",
    tiny_name="sdxl-tiny",
    size_rule=_SIZE,
    guidance_kind="cfg",
    pipeline_kwargs=_SDXL_KWARGS,
    aliases=(REPO_SDXL, "sdxl"),
    published_params=2.6e9,
    **CLIP_ONLY_PROMPTS,
)

# --- tiny ------------------------------------------------------------------------------
# Two UNet levels (one with cross-attention), a four-level VAE (real 8x compression).

TINY_UNET_SD15: dict[str, Any] = {
    **UNET_SD15,
    "sample_size": 8,
    "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
    "block_out_channels": [32, 64],
    "layers_per_block": 1,
    "cross_attention_dim": TINY_TEXT_DIM,
    "attention_head_dim": 8,
}

# The SDXL layout in small: linear projections, several transformer layers at the
# deeper level, text_time conditioning on pooled text + 6 size/crop numbers.
TINY_UNET_SDXL: dict[str, Any] = {
    **UNET_SDXL,
    "sample_size": 8,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
    "block_out_channels": [32, 64],
    "layers_per_block": 1,
    "cross_attention_dim": 2 * TINY_TEXT_DIM,
    "transformer_layers_per_block": [1, 2],
    "attention_head_dim": [2, 4],
    "addition_time_embed_dim": 8,
    "projection_class_embeddings_input_dim": 6 * 8 + TINY_TEXT_DIM,
}

SD_TINY = tiny_spec(
    SD15,
    "sd-tiny",
    components=(
        tiny_part(SD15.component("unet"), TINY_UNET_SD15, REPO_SD15, params=792_964),
        tiny_sd_vae(SD15.component("vae"), REPO_SD15),
        tiny_clip("text_encoder"),
    ),
    defaults=Defaults(height=32, width=32, steps=2, guidance=7.5, max_text_tokens=77),
)

SDXL_TINY = tiny_spec(
    SDXL,
    "sdxl-tiny",
    components=(
        tiny_part(SDXL.component("unet"), TINY_UNET_SDXL, REPO_SDXL, params=1_360_740),
        tiny_sd_vae(SDXL.component("vae"), REPO_SDXL),
        tiny_clip("text_encoder"),
        tiny_clip("text_encoder_2", with_projection=True),
    ),
    defaults=Defaults(height=32, width=32, steps=2, guidance=5.0, max_text_tokens=77),
)

SPECS: tuple[ModelSpec, ...] = (SD15, SDXL, SD_TINY, SDXL_TINY)
