"""Stable Diffusion 1.5, 2.1 and SDXL base 1.0, and the turbo forms of 2.1 and SDXL:
latent UNets conditioned by CLIP.

SD 2.1 keeps SD 1.5's UNet levels with linear projections, a 1024-wide OpenCLIP ViT-H
text encoder and v-prediction at 768 px. SDXL drops the deepest level, adds two more
transformer layers at 2x and ten at 4x downsampling, a second (bigG) text encoder, and
size/crop conditioning. SD-Turbo and SDXL-Turbo are the same architectures distilled by
adversarial diffusion distillation (Sauer et al. 2023) to run in one step at 512 px
without classifier-free guidance.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.families._shared import (
    CLIP_ONLY_PROMPTS,
    TINY_TEXT_DIM,
    clip_g,
    clip_h,
    clip_l,
    hub_denoiser,
    hub_vae,
    scheduler_source,
    sd_vae_config,
    tiny_clip,
    tiny_form,
    tiny_sd_vae,
)
from genwatt.models.spec import (
    ComponentSpec,
    Defaults,
    ModelSpec,
    SchedulerSpec,
    SizeRule,
    TokenizerSpec,
)

REPO_SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
REPO_SD21 = "stabilityai/stable-diffusion-2-1"
REPO_SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
REPO_SD_TURBO = "stabilityai/sd-turbo"
REPO_SDXL_TURBO = "stabilityai/sdxl-turbo"

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

# config.json of the unet/ folder in stabilityai/stable-diffusion-2-1: SD 1.5's levels with
# linear projections, 1024-wide cross-attention (OpenCLIP ViT-H), 5/10/20/20 heads of 64,
# 96 latent pixels (768 px), attention upcast to float32 (the fp16 fix of the v-model).
UNET_SD21: dict[str, Any] = {
    **UNET_SD15,
    "sample_size": 96,
    "cross_attention_dim": 1024,
    "attention_head_dim": [5, 10, 20, 20],
    "use_linear_projection": True,
    "upcast_attention": True,
}

# config.json of the unet/ folder in stabilityai/sd-turbo: SD 2.1's UNet at 64 latent
# pixels (512 px), the size of SD 2.1-base, from which it is distilled.
UNET_SD_TURBO: dict[str, Any] = {**UNET_SD21, "sample_size": 64, "upcast_attention": False}

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

# config.json of the unet/ folder in stabilityai/sdxl-turbo: SDXL's UNet at 64 latent
# pixels (512 px).
UNET_SDXL_TURBO: dict[str, Any] = {**UNET_SDXL, "sample_size": 64}

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
    source=scheduler_source(REPO_SD15),
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
    source=scheduler_source(REPO_SDXL),
)

# scheduler_config.json of the scheduler/ folder in stable-diffusion-2-1: DDIM on
# SD's scaled-linear betas, v-prediction.
SCHEDULER_SD21 = SchedulerSpec(
    class_name="DDIMScheduler",
    config={
        "num_train_timesteps": 1000,
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "beta_schedule": "scaled_linear",
        "prediction_type": "v_prediction",
        "clip_sample": False,
        "set_alpha_to_one": False,
        "steps_offset": 1,
    },
    source=scheduler_source(REPO_SD21),
)

# scheduler_config.json of the scheduler/ folder in sd-turbo: Euler on the same betas,
# timesteps from the end of the schedule ("trailing", so that one step starts at pure
# noise), epsilon prediction as in SD 2.1-base.
SCHEDULER_SD_TURBO = SchedulerSpec(
    class_name="EulerDiscreteScheduler",
    config={
        "num_train_timesteps": 1000,
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "beta_schedule": "scaled_linear",
        "prediction_type": "epsilon",
        "interpolation_type": "linear",
        "use_karras_sigmas": False,
        "timestep_spacing": "trailing",
        "steps_offset": 1,
    },
    source=scheduler_source(REPO_SD_TURBO),
)

# scheduler_config.json of the scheduler/ folder in sdxl-turbo: ancestral Euler, trailing.
SCHEDULER_SDXL_TURBO = SchedulerSpec(
    class_name="EulerAncestralDiscreteScheduler",
    config={
        "num_train_timesteps": 1000,
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "beta_schedule": "scaled_linear",
        "prediction_type": "epsilon",
        "timestep_spacing": "trailing",
        "steps_offset": 1,
    },
    source=scheduler_source(REPO_SDXL_TURBO),
)

# What every pipeline here shares: float16, classifier-free guidance, sizes in multiples of 8,
# prompts padded to CLIP's 77 tokens.
_COMMON: dict[str, Any] = {
    "task": "t2i",
    "torch_dtype": "float16",
    "size_rule": SizeRule(8, reason="the pipelines' check_inputs require multiples of 8"),
    "guidance_kind": "cfg",
    **CLIP_ONLY_PROMPTS,
}


def _defaults(pipeline_class: str, size: int, guidance: float) -> Defaults:
    """The pipeline's own defaults: 50 steps, 77 tokens, the UNet's sample size x 8."""
    return Defaults(
        height=size,
        width=size,
        steps=50,
        guidance=guidance,
        max_text_tokens=77,
        source=f"{pipeline_class}.__call__ defaults ({size} = unet sample_size x 8)",
    )


def _turbo_defaults(repo: str) -> Defaults:
    """What both turbo model cards run: one step, guidance 0 (no unconditional pass), at
    the pipeline's default size of 512 px."""
    return Defaults(
        height=512,
        width=512,
        steps=1,
        guidance=0.0,
        max_text_tokens=77,
        source=(
            f"{repo} model card (num_inference_steps=1, guidance_scale=0.0; "
            "512 = unet sample_size x 8)"
        ),
    )


# What the random and tiny builds leave out: the safety checker and its feature extractor
# (StableDiffusionPipeline) and the invisible watermark (SDXL). The pretrained path keeps
# what the repo has.
_SD15_KWARGS = {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}
_SDXL_KWARGS = {"add_watermarker": False}

SD15 = ModelSpec(
    name="sd1.5",
    repo_id=REPO_SD15,
    family="sd",
    pipeline_class="StableDiffusionPipeline",
    components=(
        hub_denoiser(
            REPO_SD15,
            "UNet2DConditionModel",
            UNET_SD15,
            params=859_520_964,
            published_params=860e6,
            published_source=f"{REPO_SD15} model card: '860M UNet and 123M text encoder'",
            folder="unet",
        ),
        hub_vae(REPO_SD15, "AutoencoderKL", sd_vae_config(), 83_653_863),
        clip_l("text_encoder", REPO_SD15, "text_encoder"),
    ),
    tokenizers=(TokenizerSpec("tokenizer", "clip", 77),),
    scheduler=SCHEDULER_SD15,
    defaults=_defaults("StableDiffusionPipeline", 512, 7.5),
    tiny_name="sd-tiny",
    pipeline_kwargs=_SD15_KWARGS,
    aliases=(REPO_SD15, "runwayml/stable-diffusion-v1-5", "stable-diffusion-v1-5"),
    published_params=860e6,
    **_COMMON,
)

_SDXL_PAPER = "Podell et al. 2023 (SDXL paper)"
# OpenCLIP's tokenizer pads with "!" (tokenizer/special_tokens_map.json of SD 2.1, and
# tokenizer_2/ of SDXL), not with the end-of-text token as CLIP-L's does.
_OPENCLIP_TOKENIZER = TokenizerSpec("tokenizer", "clip", 77, pad_token="!")


def _sd2_parts(
    repo: str, unet: dict[str, Any], vae_size: int, published_source: str
) -> tuple[ComponentSpec, ...]:
    """SD 2.1's UNet (865M), SD's VAE and the OpenCLIP ViT-H text tower, as the folders
    of ``repo``."""
    return (
        hub_denoiser(
            repo,
            "UNet2DConditionModel",
            unet,
            params=865_910_724,
            published_params=865e6,
            published_source=published_source,
            folder="unet",
        ),
        hub_vae(repo, "AutoencoderKL", sd_vae_config(sample_size=vae_size), 83_653_863),
        clip_h("text_encoder", repo, "text_encoder"),
    )


def _sdxl_parts(
    repo: str, unet: dict[str, Any], published_source: str
) -> tuple[ComponentSpec, ...]:
    """SDXL's UNet (2.6B), its VAE and its two CLIP text towers, as the folders of
    ``repo``."""
    return (
        hub_denoiser(
            repo,
            "UNet2DConditionModel",
            unet,
            params=2_567_463_684,
            published_params=2.6e9,
            published_source=published_source,
            folder="unet",
        ),
        hub_vae(
            repo,
            "AutoencoderKL",
            sd_vae_config(sample_size=1024, scaling_factor=0.13025, force_upcast=True),
            83_653_863,
        ),
        clip_l("text_encoder", repo, "text_encoder"),
        clip_g("text_encoder_2", repo, "text_encoder_2"),
    )


_SDXL_TOKENIZERS = (
    TokenizerSpec("tokenizer", "clip", 77),
    TokenizerSpec("tokenizer_2", "clip", 77, pad_token="!"),
)

SD21 = ModelSpec(
    name="sd2.1",
    repo_id=REPO_SD21,
    family="sd2",
    pipeline_class="StableDiffusionPipeline",
    components=_sd2_parts(
        REPO_SD21, UNET_SD21, 768, f"{_SDXL_PAPER}, Table 1: 865M UNet for SD 2.0/2.1"
    ),
    tokenizers=(_OPENCLIP_TOKENIZER,),
    scheduler=SCHEDULER_SD21,
    defaults=_defaults("StableDiffusionPipeline", 768, 7.5),
    tiny_name="sd2-tiny",
    pipeline_kwargs=_SD15_KWARGS,
    aliases=(REPO_SD21, "stable-diffusion-2-1"),
    published_params=865e6,
    **_COMMON,
)

SD_TURBO = ModelSpec(
    name="sd-turbo",
    repo_id=REPO_SD_TURBO,
    family="sd2",
    pipeline_class="StableDiffusionPipeline",
    components=_sd2_parts(
        REPO_SD_TURBO,
        UNET_SD_TURBO,
        512,
        f"{REPO_SD_TURBO} model card: 'a distilled version of Stable Diffusion 2.1', "
        f"whose UNet has 865M parameters ({_SDXL_PAPER}, Table 1)",
    ),
    tokenizers=(_OPENCLIP_TOKENIZER,),
    scheduler=SCHEDULER_SD_TURBO,
    defaults=_turbo_defaults(REPO_SD_TURBO),
    tiny_name="sd2-tiny",
    pipeline_kwargs=_SD15_KWARGS,
    aliases=(REPO_SD_TURBO,),
    published_params=865e6,
    **_COMMON,
)

SDXL = ModelSpec(
    name="sdxl-base-1.0",
    repo_id=REPO_SDXL,
    family="sdxl",
    pipeline_class="StableDiffusionXLPipeline",
    components=_sdxl_parts(REPO_SDXL, UNET_SDXL, f"{_SDXL_PAPER}: '2.6B parameters' in the UNet"),
    tokenizers=_SDXL_TOKENIZERS,
    scheduler=SCHEDULER_SDXL,
    defaults=_defaults("StableDiffusionXLPipeline", 1024, 5.0),
    tiny_name="sdxl-tiny",
    pipeline_kwargs=_SDXL_KWARGS,
    aliases=(REPO_SDXL, "sdxl"),
    published_params=2.6e9,
    **_COMMON,
)

SDXL_TURBO = ModelSpec(
    name="sdxl-turbo",
    repo_id=REPO_SDXL_TURBO,
    family="sdxl",
    pipeline_class="StableDiffusionXLPipeline",
    components=_sdxl_parts(
        REPO_SDXL_TURBO,
        UNET_SDXL_TURBO,
        f"{REPO_SDXL_TURBO} model card: 'a distilled version of SDXL 1.0', whose UNet has "
        f"2.6B parameters ({_SDXL_PAPER})",
    ),
    tokenizers=_SDXL_TOKENIZERS,
    scheduler=SCHEDULER_SDXL_TURBO,
    defaults=_turbo_defaults(REPO_SDXL_TURBO),
    tiny_name="sdxl-tiny",
    pipeline_kwargs=_SDXL_KWARGS,
    aliases=(REPO_SDXL_TURBO,),
    published_params=2.6e9,
    **_COMMON,
)

# --- tiny ------------------------------------------------------------------------------
# Two UNet levels (one with cross-attention), a four-level VAE (real 8x compression).

_TINY_LEVELS: dict[str, Any] = {
    "sample_size": 8,
    "block_out_channels": [32, 64],
    "layers_per_block": 1,
}

TINY_UNET_SD15: dict[str, Any] = {
    **UNET_SD15,
    **_TINY_LEVELS,
    "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
    "cross_attention_dim": TINY_TEXT_DIM,
    "attention_head_dim": 8,
}

# The SD 2 layout in small: linear projections, heads of 16 at both levels.
TINY_UNET_SD21: dict[str, Any] = {
    **TINY_UNET_SD15,
    "use_linear_projection": True,
    "upcast_attention": True,
    "attention_head_dim": [2, 4],
}

# The SDXL layout in small: linear projections, several transformer layers at the
# deeper level, text_time conditioning on pooled text + 6 size/crop numbers.
TINY_UNET_SDXL: dict[str, Any] = {
    **UNET_SDXL,
    **_TINY_LEVELS,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
    "cross_attention_dim": 2 * TINY_TEXT_DIM,
    "transformer_layers_per_block": [1, 2],
    "attention_head_dim": [2, 4],
    "addition_time_embed_dim": 8,
    "projection_class_embeddings_input_dim": 6 * 8 + TINY_TEXT_DIM,
}

SD_TINY = tiny_form(
    SD15,
    TINY_UNET_SD15,
    792_964,
    tiny_sd_vae(SD15),
    (tiny_clip("text_encoder"),),
    max_text_tokens=77,
)

SD2_TINY = tiny_form(
    SD21,
    TINY_UNET_SD21,
    792_964,
    tiny_sd_vae(SD21),
    (tiny_clip("text_encoder", hidden_act="gelu", of="OpenCLIP ViT-H/14"),),
    max_text_tokens=77,
)

SDXL_TINY = tiny_form(
    SDXL,
    TINY_UNET_SDXL,
    1_360_740,
    tiny_sd_vae(SDXL),
    (tiny_clip("text_encoder"), tiny_clip("text_encoder_2", with_projection=True)),
    max_text_tokens=77,
)

SPECS: tuple[ModelSpec, ...] = (
    SD15,
    SD21,
    SD_TURBO,
    SDXL,
    SDXL_TURBO,
    SD_TINY,
    SD2_TINY,
    SDXL_TINY,
)
