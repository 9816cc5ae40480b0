"""AnimateDiff: SD 1.5's UNet with temporal attention (a motion adapter) after each block.

The pipeline merges the image UNet and the adapter into one ``UNetMotionModel``; every
frame is a batch entry for the spatial layers, and the motion modules attend across
frames. No temporal compression, and the adapter's positional table caps frames at 32.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.families._encoders import clip_l, sd_vae_config, tiny_clip, tiny_sd_vae
from genwatt.models.families.stable_diffusion import REPO_SD15, TINY_UNET_SD15, UNET_SD15
from genwatt.models.spec import (
    ComponentSpec,
    Defaults,
    FrameRule,
    ModelSpec,
    SchedulerSpec,
    SizeRule,
    TokenizerSpec,
)

REPO = "guoyww/animatediff-motion-adapter-v1-5-2"

# config.json of guoyww/animatediff-motion-adapter-v1-5-2: motion modules at each of
# the UNet's four levels and in its middle block, 8 heads, 32 positions.
MOTION_ADAPTER: dict[str, Any] = {
    "block_out_channels": [320, 640, 1280, 1280],
    "motion_layers_per_block": 2,
    "motion_transformer_layers_per_block": 1,
    "motion_mid_block_layers_per_block": 1,
    "motion_transformer_layers_per_mid_block": 1,
    "motion_num_attention_heads": 8,
    "motion_norm_num_groups": 32,
    "motion_max_seq_length": 32,
    "use_motion_mid_block": True,
    "conv_in_channels": None,
}

# The AnimateDiff model card replaces SD 1.5's PNDM with this DDIM scheduler.
SCHEDULER = SchedulerSpec(
    class_name="DDIMScheduler",
    config={
        "num_train_timesteps": 1000,
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "beta_schedule": "linear",
        "clip_sample": False,
        "set_alpha_to_one": False,
        "steps_offset": 1,
        "timestep_spacing": "linspace",
    },
    source=f"{REPO} model card (DDIMScheduler with clip_sample=False, linear betas)",
    replaces_pretrained=True,
)

_SIZE = SizeRule(8, reason="AnimateDiffPipeline.check_inputs requires multiples of 8")
_FRAMES = FrameRule(1, "exact", max_frames=32)
_KWARGS = {"feature_extractor": None, "image_encoder": None}

ANIMATEDIFF = ModelSpec(
    name="animatediff-v1-5-2",
    repo_id=REPO,
    task="t2v",
    family="animatediff",
    pipeline_class="AnimateDiffPipeline",
    pipeline_repo_id=REPO_SD15,
    components=(
        ComponentSpec(
            name="unet",
            role="denoiser",
            library="diffusers",
            class_name="UNet2DConditionModel",
            config=UNET_SD15,
            source=f"config.json of the unet/ folder in {REPO_SD15}",
            params=859_520_964,
            published_params=860e6,
            published_source=f"{REPO_SD15} model card: '860M UNet'",
        ),
        ComponentSpec(
            name="motion_adapter",
            role="adapter",
            library="diffusers",
            class_name="MotionAdapter",
            config=MOTION_ADAPTER,
            source=f"config.json of {REPO}",
            params=453_209_280,
            published_params=453e6,
            published_source="mm_sd_v15_v2.ckpt in guoyww/animatediff: 1.82 GB at 4 bytes each",
            repo_id=REPO,
        ),
        ComponentSpec(
            name="vae",
            role="vae",
            library="diffusers",
            class_name="AutoencoderKL",
            config=sd_vae_config(),
            source=f"config.json of the vae/ folder in {REPO_SD15}",
            params=83_653_863,
        ),
        clip_l("text_encoder", REPO_SD15, "text_encoder"),
    ),
    tokenizers=(TokenizerSpec("tokenizer", "clip", 77),),
    scheduler=SCHEDULER,
    defaults=Defaults(
        height=512,
        width=512,
        num_frames=16,
        steps=25,
        guidance=7.5,
        max_text_tokens=77,
        source=f"{REPO} model card (16 frames, 25 steps, guidance 7.5, 512 px)",
    ),
    torch_dtype="float16",
    tiny_name="animatediff-tiny",
    size_rule=_SIZE,
    frame_rule=_FRAMES,
    guidance_kind="cfg",
    cfg_batched=True,
    max_text_tokens_limit=77,
    text_tokens_fixed=True,
    takes_max_sequence_length=False,
    pipeline_kwargs=_KWARGS,
    aliases=(REPO, "animatediff"),
    published_params=1.31e9,
    notes="The denoiser the pipeline runs is the UNet and the motion adapter merged.",
)

# --- tiny ------------------------------------------------------------------------------
# The tiny SD UNet plus a matching adapter: one motion layer per level, 2 heads.

TINY_MOTION_ADAPTER: dict[str, Any] = {
    **MOTION_ADAPTER,
    "block_out_channels": TINY_UNET_SD15["block_out_channels"],
    "motion_layers_per_block": TINY_UNET_SD15["layers_per_block"],
    "motion_num_attention_heads": 2,
}

ANIMATEDIFF_TINY = ModelSpec(
    name="animatediff-tiny",
    repo_id=None,
    task="t2v",
    family="animatediff",
    pipeline_class="AnimateDiffPipeline",
    components=(
        ComponentSpec(
            name="unet",
            role="denoiser",
            library="diffusers",
            class_name="UNet2DConditionModel",
            config=TINY_UNET_SD15,
            source="genwatt tiny form of " + REPO_SD15,
            params=792_964,
        ),
        ComponentSpec(
            name="motion_adapter",
            role="adapter",
            library="diffusers",
            class_name="MotionAdapter",
            config=TINY_MOTION_ADAPTER,
            source="genwatt tiny form of " + REPO,
            params=435_424,
        ),
        tiny_sd_vae(REPO_SD15),
        tiny_clip("text_encoder"),
    ),
    tokenizers=(TokenizerSpec("tokenizer", "clip", 77),),
    scheduler=SCHEDULER,
    defaults=Defaults(height=32, width=32, num_frames=8, steps=2, guidance=7.5, max_text_tokens=77),
    torch_dtype="float32",
    tiny_name="animatediff-tiny",
    size_rule=_SIZE,
    frame_rule=_FRAMES,
    guidance_kind="cfg",
    cfg_batched=True,
    max_text_tokens_limit=77,
    text_tokens_fixed=True,
    takes_max_sequence_length=False,
    pipeline_kwargs=_KWARGS,
    default_weights="tiny",
)

SPECS: tuple[ModelSpec, ...] = (ANIMATEDIFF, ANIMATEDIFF_TINY)
