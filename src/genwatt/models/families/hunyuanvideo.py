"""HunyuanVideo (Tencent): a dual-stream then single-stream DiT, 13B, conditioned by a
Llama-3-8B multimodal LLM (hidden states of its third-to-last layer) and CLIP-L.

Guidance is distilled into the transformer (``guidance_embeds``): one pass per step.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.families._shared import (
    TINY_TEXT_DIM,
    clip_l,
    flow_match_scheduler,
    hub_denoiser,
    hub_source,
    hub_vae,
    text_encoder_part,
    tiny_clip,
    tiny_form,
    tiny_part,
)
from genwatt.models.spec import Defaults, FrameRule, ModelSpec, SizeRule, TokenizerSpec
from genwatt.models.tokenizer import token_id, vocab_size

REPO = "hunyuanvideo-community/HunyuanVideo"

# config.json of the transformer/ folder in hunyuanvideo-community/HunyuanVideo:
# 24 heads x 128 = 3072, 20 dual-stream + 40 single-stream blocks, 2-layer token refiner.
TRANSFORMER: dict[str, Any] = {
    "in_channels": 16,
    "out_channels": 16,
    "num_attention_heads": 24,
    "attention_head_dim": 128,
    "num_layers": 20,
    "num_single_layers": 40,
    "num_refiner_layers": 2,
    "mlp_ratio": 4.0,
    "patch_size": 2,
    "patch_size_t": 1,
    "qk_norm": "rms_norm",
    "guidance_embeds": True,
    "text_embed_dim": 4096,
    "pooled_projection_dim": 768,
    "rope_theta": 256.0,
    "rope_axes_dim": [16, 56, 56],
}

# config.json of the vae/ folder: a 3D causal VAE, 8x space, 4x time, 16 channels.
VAE: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 16,
    "down_block_types": ["HunyuanVideoDownBlock3D"] * 4,
    "up_block_types": ["HunyuanVideoUpBlock3D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "act_fn": "silu",
    "norm_num_groups": 32,
    "scaling_factor": 0.476986,
    "spatial_compression_ratio": 8,
    "temporal_compression_ratio": 4,
    "mid_block_add_attention": True,
}

# config.json of the text_encoder/ folder: the language model of
# xtuner/llava-llama-3-8b-v1_1-transformers (Llama-3-8B with 64 extra vocabulary rows).
LLAMA_ENCODER: dict[str, Any] = {
    "vocab_size": 128320,
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "hidden_act": "silu",
    "max_position_embeddings": 8192,
    "rms_norm_eps": 1e-5,
    "rope_theta": 500000.0,
    "attention_bias": False,
    "mlp_bias": False,
    "bos_token_id": 128000,
    "eos_token_id": 128001,
    "tie_word_embeddings": False,
}

# scheduler_config.json of the scheduler/ folder: flow matching, shift 7.
SCHEDULER = flow_match_scheduler(REPO, shift=7.0)

_SIZE = SizeRule(16, reason="HunyuanVideoPipeline.check_inputs requires multiples of 16")
_FRAMES = FrameRule(4, "latent_floor")

HUNYUANVIDEO = ModelSpec(
    name="hunyuanvideo",
    repo_id=REPO,
    task="t2v",
    family="hunyuanvideo",
    pipeline_class="HunyuanVideoPipeline",
    components=(
        hub_denoiser(
            REPO,
            "HunyuanVideoTransformer3DModel",
            TRANSFORMER,
            params=12_821_012_544,
            published_params=13e9,
            published_source="Kong et al. 2024, 'HunyuanVideo': 'over 13 billion parameters'",
        ),
        hub_vae(REPO, "AutoencoderKLHunyuanVideo", VAE, 246_478_803),
        text_encoder_part(
            "text_encoder",
            "LlamaModel",
            "LlamaConfig",
            LLAMA_ENCODER,
            hub_source(REPO, "text_encoder"),
            params=7_505_186_816,
            published_params=8e9,
            published_source="xtuner/llava-llama-3-8b-v1_1 (Llama-3-8B language model)",
        ),
        clip_l("text_encoder_2", REPO, "text_encoder_2"),
    ),
    tokenizers=(
        TokenizerSpec("tokenizer", "llama3", 8192),
        TokenizerSpec("tokenizer_2", "clip", 77),
    ),
    scheduler=SCHEDULER,
    defaults=Defaults(
        height=720,
        width=1280,
        num_frames=129,
        fps=24,  # HunyuanVideo report: 129 frames, about 5 s at 24 fps
        steps=50,
        guidance=6.0,
        max_text_tokens=256,
        source="Tencent HunyuanVideo sample_video.py (720p, 129 frames, 50 steps, "
        "embedded guidance 6.0) and HunyuanVideoPipeline defaults",
    ),
    torch_dtype="bfloat16",
    tiny_name="hunyuanvideo-tiny",
    size_rule=_SIZE,
    frame_rule=_FRAMES,
    guidance_kind="embedded",
    # HunyuanVideoPipeline puts a 95-token prompt template in front, so its Llama encodes
    # max_text_tokens + 95 tokens and keeps the last max_text_tokens.
    max_text_tokens_limit=512,
    aliases=(REPO,),
    published_params=13e9,
)

# --- tiny ------------------------------------------------------------------------------
# One block of each stream, 2 heads x 16 (rope axes 4 + 6 + 6); a 3-layer Llama so that
# the pipeline's hidden_states[-3] is a real layer output.

TINY_TRANSFORMER: dict[str, Any] = {
    **TRANSFORMER,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "num_layers": 1,
    "num_single_layers": 1,
    "num_refiner_layers": 1,
    "text_embed_dim": TINY_TEXT_DIM,
    "pooled_projection_dim": TINY_TEXT_DIM,
    "rope_axes_dim": [4, 6, 6],
}

TINY_VAE: dict[str, Any] = {
    **VAE,
    "block_out_channels": [8, 16, 32, 32],
    "layers_per_block": 1,
    "norm_num_groups": 4,
}

TINY_LLAMA: dict[str, Any] = {
    **LLAMA_ENCODER,
    "vocab_size": vocab_size("llama3"),
    "hidden_size": TINY_TEXT_DIM,
    "intermediate_size": 2 * TINY_TEXT_DIM,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 512,
    "bos_token_id": token_id("llama3", "bos"),
    "eos_token_id": token_id("llama3", "eos"),
}

HUNYUANVIDEO_TINY = tiny_form(
    HUNYUANVIDEO,
    TINY_TRANSFORMER,
    107_872,
    TINY_VAE,
    (
        tiny_part(HUNYUANVIDEO.component("text_encoder"), TINY_LLAMA, REPO),
        tiny_clip("text_encoder_2"),
    ),
    tokenizers=(
        TokenizerSpec("tokenizer", "llama3", 512),
        TokenizerSpec("tokenizer_2", "clip", 77),
    ),
    max_text_tokens_limit=256,  # + the 95-token template within the tiny Llama's 512
)

SPECS: tuple[ModelSpec, ...] = (HUNYUANVIDEO, HUNYUANVIDEO_TINY)
