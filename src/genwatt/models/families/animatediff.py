"""AnimateDiff: SD 1.5's UNet with temporal attention (a motion adapter) after each block.

The pipeline merges the image UNet and the adapter into one ``UNetMotionModel``; every
frame is a batch entry for the spatial layers, and the motion modules attend across
frames. No temporal compression, and the adapter's positional table caps frames at 32.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.families._shared import (
    CLIP_ONLY_PROMPTS,
    diffusers_part,
    hub_source,
    tiny_defaults,
    tiny_part,
    tiny_spec,
)
from genwatt.models.families.stable_diffusion import REPO_SD15, SD15, SD_TINY, TINY_UNET_SD15
from genwatt.models.spec import (
    Defaults,
    FrameRule,
    ModelSpec,
    SchedulerSpec,
    SizeRule,
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
_FRAMES = FrameRule(1, "exact", max_frames=32, reason="its motion modules have 32 positions")
_KWARGS = {"feature_extractor": None, "image_encoder": None}

# The UNet, VAE and text encoder are SD 1.5's own, from its repo.
ANIMATEDIFF = ModelSpec(
    name="animatediff-v1-5-2",
    repo_id=REPO,
    task="t2v",
    family="animatediff",
    pipeline_class="AnimateDiffPipeline",
    pipeline_repo_id=REPO_SD15,
    components=(
        SD15.component("unet"),
        diffusers_part(
            "motion_adapter",
            "adapter",
            "MotionAdapter",
            MOTION_ADAPTER,
            hub_source(REPO),
            params=453_209_280,
            published_params=453e6,
            published_source="mm_sd_v15_v2.ckpt in guoyww/animatediff: 1.82 GB at 4 bytes each",
            repo_id=REPO,
        ),
        SD15.component("vae"),
        SD15.component("text_encoder"),
    ),
    tokenizers=SD15.tokenizers,
    scheduler=SCHEDULER,
    defaults=Defaults(
        height=512,
        width=512,
        num_frames=16,
        fps=8,  # model card example: export_to_gif at 8 fps
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
    pipeline_kwargs=_KWARGS,
    aliases=(REPO, "animatediff"),
    published_params=1.31e9,
    notes="The denoiser the pipeline runs is the UNet and the motion adapter merged.",
    **CLIP_ONLY_PROMPTS,
)

# --- tiny ------------------------------------------------------------------------------
# The tiny SD UNet plus a matching adapter: one motion layer per level, 2 heads.

TINY_MOTION_ADAPTER: dict[str, Any] = {
    **MOTION_ADAPTER,
    "block_out_channels": TINY_UNET_SD15["block_out_channels"],
    "motion_layers_per_block": TINY_UNET_SD15["layers_per_block"],
    "motion_num_attention_heads": 2,
}

ANIMATEDIFF_TINY = tiny_spec(
    ANIMATEDIFF,
    components=(
        SD_TINY.component("unet"),
        tiny_part(
            ANIMATEDIFF.component("motion_adapter"), TINY_MOTION_ADAPTER, REPO, params=435_424
        ),
        SD_TINY.component("vae"),
        SD_TINY.component("text_encoder"),
    ),
    defaults=tiny_defaults(ANIMATEDIFF, num_frames=8, max_text_tokens=77),
)

SPECS: tuple[ModelSpec, ...] = (ANIMATEDIFF, ANIMATEDIFF_TINY)
