"""Wan 2.1 text-to-video (Alibaba): a DiT over a causal 3D VAE, conditioned by umT5-XXL.

The tiny form is the project's main benchmark workload, so its VAE keeps the real
compression (4x in time, 8x in space) and its transformer the real patch (1, 2, 2):
frames and pixels then grow the token count exactly as in the real model.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.families._shared import (
    TINY_TEXT_DIM,
    hub_denoiser,
    hub_vae,
    scheduler_source,
    tiny_form,
    tiny_t5,
    umt5_xxl,
)
from genwatt.models.spec import (
    Defaults,
    FrameRule,
    ModelSpec,
    SchedulerSpec,
    SizeRule,
    TokenizerSpec,
)

REPO_1_3B = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
REPO_14B = "Wan-AI/Wan2.1-T2V-14B-Diffusers"

# config.json of the transformer/ folder in Wan-AI/Wan2.1-T2V-1.3B-Diffusers:
# dim 1536 = 12 heads x 128, 30 layers, ffn 8960.
TRANSFORMER_1_3B: dict[str, Any] = {
    "patch_size": [1, 2, 2],
    "num_attention_heads": 12,
    "attention_head_dim": 128,
    "in_channels": 16,
    "out_channels": 16,
    "text_dim": 4096,
    "freq_dim": 256,
    "ffn_dim": 8960,
    "num_layers": 30,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "eps": 1e-6,
    "image_dim": None,
    "added_kv_proj_dim": None,
    "rope_max_seq_len": 1024,
}

# config.json of the transformer/ folder in Wan-AI/Wan2.1-T2V-14B-Diffusers:
# dim 5120 = 40 heads x 128, 40 layers, ffn 13824.
TRANSFORMER_14B: dict[str, Any] = {
    **TRANSFORMER_1_3B,
    "num_attention_heads": 40,
    "ffn_dim": 13824,
    "num_layers": 40,
}

# config.json of the vae/ folder in both repos (the same Wan-VAE): z_dim 16, three
# downsamples (8x space), the last two also in time (4x).
VAE: dict[str, Any] = {
    "base_dim": 96,
    "z_dim": 16,
    "dim_mult": [1, 2, 4, 4],
    "num_res_blocks": 2,
    "attn_scales": [],
    "temperal_downsample": [False, True, True],
    "dropout": 0.0,
    "latents_mean": [
        -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
        0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
    ],
    "latents_std": [
        2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
        3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.916,
    ],
}  # fmt: skip


def _scheduler(repo: str, flow_shift: float) -> SchedulerSpec:
    # scheduler_config.json of the scheduler/ folder: UniPC on flow-matching sigmas,
    # shift 3.0 for the 480p 1.3B model and 5.0 for the 720p 14B model.
    return SchedulerSpec(
        class_name="UniPCMultistepScheduler",
        config={
            "num_train_timesteps": 1000,
            "beta_start": 0.0001,
            "beta_end": 0.02,
            "beta_schedule": "linear",
            "solver_order": 2,
            "prediction_type": "flow_prediction",
            "predict_x0": True,
            "solver_type": "bh2",
            "lower_order_final": True,
            "disable_corrector": [],
            "use_flow_sigmas": True,
            "flow_shift": flow_shift,
            "timestep_spacing": "linspace",
            "steps_offset": 0,
            "final_sigmas_type": "zero",
        },
        source=scheduler_source(repo),
    )


_SIZE = SizeRule(16, reason="WanPipeline.check_inputs requires multiples of 16")
_FRAMES = FrameRule(4, "pipeline_rounds")
_TOKENIZER = (TokenizerSpec("tokenizer", "t5", 512),)


def _real(
    name: str,
    repo: str,
    transformer: dict[str, Any],
    params: int,
    published: float,
    height: int,
    width: int,
    flow_shift: float,
) -> ModelSpec:
    return ModelSpec(
        name=name,
        repo_id=repo,
        task="t2v",
        family="wan",
        pipeline_class="WanPipeline",
        components=(
            hub_denoiser(
                repo,
                "WanTransformer3DModel",
                transformer,
                params=params,
                published_params=published,
                published_source=f"the model name and the {repo} model card",
            ),
            # The model card loads the VAE in float32 and the rest in bfloat16.
            hub_vae(repo, "AutoencoderKLWan", VAE, 126_892_531, torch_dtype="float32"),
            umt5_xxl(repo),
        ),
        tokenizers=_TOKENIZER,
        scheduler=_scheduler(repo, flow_shift),
        defaults=Defaults(
            height=height,
            width=width,
            num_frames=81,
            fps=16,  # 81 frames = 5 s (model card; export_to_video(..., fps=16))
            steps=50,
            guidance=5.0,
            max_text_tokens=512,
            source=f"{repo} model card and WanPipeline.__call__ defaults",
        ),
        torch_dtype="bfloat16",
        tiny_name="wan-tiny",
        size_rule=_SIZE,
        frame_rule=_FRAMES,
        guidance_kind="cfg",
        # WanPipeline runs the transformer twice per step (cond, then uncond).
        cfg_batched=False,
        max_text_tokens_limit=512,
        aliases=(repo,),
        published_params=published,
    )


WAN_1_3B = _real(
    "wan2.1-t2v-1.3b", REPO_1_3B, TRANSFORMER_1_3B, 1_418_996_800, 1.3e9, 480, 832, 3.0
)
WAN_14B = _real("wan2.1-t2v-14b", REPO_14B, TRANSFORMER_14B, 14_288_491_584, 14e9, 720, 1280, 5.0)

# --- tiny ------------------------------------------------------------------------------
# 2 layers of 2 heads x 16; the VAE at base_dim 8 keeps all three down/up levels, the
# temporal ones in the same places, so latent = ((frames - 1) / 4 + 1, h / 8, w / 8).

TINY_TRANSFORMER: dict[str, Any] = {
    **TRANSFORMER_1_3B,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "text_dim": TINY_TEXT_DIM,
    "freq_dim": 32,
    "ffn_dim": 64,
    "num_layers": 2,
}

TINY_VAE: dict[str, Any] = {**VAE, "base_dim": 8, "num_res_blocks": 1}

WAN_TINY = tiny_form(
    WAN_1_3B, TINY_TRANSFORMER, 40_864, TINY_VAE, (tiny_t5("text_encoder", umt5=True),)
)

SPECS: tuple[ModelSpec, ...] = (WAN_1_3B, WAN_14B, WAN_TINY)
