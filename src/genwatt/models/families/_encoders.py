"""Text encoders and VAEs that several families share, real and tiny.

T5-XXL alone conditions CogVideoX, Mochi, LTX-Video, SD3 and FLUX; CLIP ViT-L/14 four
families. Writing each config once keeps them from drifting apart.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.spec import ComponentSpec
from genwatt.models.tokenizer import token_id, vocab_size

# --- real text encoders ------------------------------------------------------------

# config.json of google/t5-v1_1-xxl, shipped as text_encoder/ of THUDM/CogVideoX-2b,
# genmo/mochi-1-preview and Lightricks/LTX-Video, text_encoder_2/ of
# black-forest-labs/FLUX.1-dev and text_encoder_3/ of SD3-medium.
T5_XXL_CONFIG: dict[str, Any] = {
    "vocab_size": 32128,
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "dropout_rate": 0.1,
    "layer_norm_epsilon": 1e-6,
    "feed_forward_proj": "gated-gelu",
    "pad_token_id": 0,
    "eos_token_id": 1,
}

# config.json of google/umt5-xxl, shipped as text_encoder/ of
# Wan-AI/Wan2.1-T2V-1.3B-Diffusers (the encoder half only).
UMT5_XXL_CONFIG: dict[str, Any] = {
    "vocab_size": 256384,
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "dropout_rate": 0.1,
    "layer_norm_epsilon": 1e-6,
    "feed_forward_proj": "gated-gelu",
    "pad_token_id": 0,
    "eos_token_id": 1,
}

# config.json of text_encoder/ in stable-diffusion-v1-5/stable-diffusion-v1-5 (the text
# tower of openai/clip-vit-large-patch14). Its legacy eos_token_id 2 makes CLIPTextModel
# pool at the highest token id, which is the end-of-text token.
CLIP_L_CONFIG: dict[str, Any] = {
    "vocab_size": 49408,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "max_position_embeddings": 77,
    "projection_dim": 768,
    "hidden_act": "quick_gelu",
    "layer_norm_eps": 1e-5,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "pad_token_id": 1,
}

# config.json of text_encoder_2/ in stabilityai/stable-diffusion-xl-base-1.0 (the text
# tower of OpenCLIP ViT-bigG/14).
CLIP_G_CONFIG: dict[str, Any] = {
    "vocab_size": 49408,
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 20,
    "max_position_embeddings": 77,
    "projection_dim": 1280,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-5,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "pad_token_id": 1,
}

_SD3_PAPER = "Esser et al. 2024 (SD3 paper), Table of text encoders"


def t5_xxl(name: str, repo: str, folder: str) -> ComponentSpec:
    return ComponentSpec(
        name=name,
        role="text_encoder",
        library="transformers",
        class_name="T5EncoderModel",
        config_class="T5Config",
        config=T5_XXL_CONFIG,
        source=f"config.json of the {folder}/ folder in {repo} (google/t5-v1_1-xxl)",
        params=4_762_310_656,
        published_params=4.7e9,
        published_source=_SD3_PAPER + ": T5-XXL encoder 4.7B",
    )


def umt5_xxl(repo: str) -> ComponentSpec:
    return ComponentSpec(
        name="text_encoder",
        role="text_encoder",
        library="transformers",
        class_name="UMT5EncoderModel",
        config_class="UMT5Config",
        config=UMT5_XXL_CONFIG,
        source=f"config.json of the text_encoder/ folder in {repo} (google/umt5-xxl)",
        params=5_680_910_336,
        published_params=5.7e9,
        published_source=(
            "models_t5_umt5-xxl-enc-bf16.pth in the original Wan-AI/Wan2.1-T2V-1.3B repo: "
            "11.4 GB at 2 bytes per parameter"
        ),
    )


def clip_l(name: str, repo: str, folder: str, *, with_projection: bool = False) -> ComponentSpec:
    return ComponentSpec(
        name=name,
        role="text_encoder",
        library="transformers",
        class_name="CLIPTextModelWithProjection" if with_projection else "CLIPTextModel",
        config_class="CLIPTextConfig",
        config=CLIP_L_CONFIG,
        source=f"config.json of the {folder}/ folder in {repo} (openai/clip-vit-large-patch14)",
        params=123_650_304 if with_projection else 123_060_480,
        published_params=123e6,
        published_source="stable-diffusion-v1-5 model card: '123M text encoder'",
    )


def clip_g(name: str, repo: str, folder: str) -> ComponentSpec:
    return ComponentSpec(
        name=name,
        role="text_encoder",
        library="transformers",
        class_name="CLIPTextModelWithProjection",
        config_class="CLIPTextConfig",
        config=CLIP_G_CONFIG,
        source=f"config.json of the {folder}/ folder in {repo} (OpenCLIP ViT-bigG/14)",
        params=694_659_840,
        published_params=695e6,
        published_source=_SD3_PAPER + ": CLIP-G/14 695M",
    )


# --- real image VAE -----------------------------------------------------------------


def sd_vae_config(**overrides: Any) -> dict[str, Any]:
    """The 8x image VAE of SD 1.5 (vae/config.json); SDXL, SD3 and FLUX change a few keys."""
    return {
        "in_channels": 3,
        "out_channels": 3,
        "down_block_types": ["DownEncoderBlock2D"] * 4,
        "up_block_types": ["UpDecoderBlock2D"] * 4,
        "block_out_channels": [128, 256, 512, 512],
        "layers_per_block": 2,
        "act_fn": "silu",
        "latent_channels": 4,
        "norm_num_groups": 32,
        "sample_size": 512,
        "scaling_factor": 0.18215,
        **overrides,
    }


# --- tiny --------------------------------------------------------------------------
# The tiny encoders keep each real class and the structure the pipelines rely on (SDXL
# reads hidden_states[-2], HunyuanVideo hidden_states[-3]); only widths and depths
# shrink. Their vocabularies are the built-in tokenizers'.

TINY_TEXT_DIM = 32


def tiny_t5(name: str, *, umt5: bool = False, d_model: int = TINY_TEXT_DIM) -> ComponentSpec:
    return ComponentSpec(
        name=name,
        role="text_encoder",
        library="transformers",
        class_name="UMT5EncoderModel" if umt5 else "T5EncoderModel",
        config_class="UMT5Config" if umt5 else "T5Config",
        config={
            "vocab_size": vocab_size("t5"),
            "d_model": d_model,
            "d_kv": 8,
            "d_ff": 2 * d_model,
            "num_layers": 2,
            "num_heads": d_model // 8,
            "relative_attention_num_buckets": 8,
            "relative_attention_max_distance": 32,
            "dropout_rate": 0.0,
            "feed_forward_proj": "gated-gelu",
            "pad_token_id": token_id("t5", "pad"),
            "eos_token_id": token_id("t5", "eos"),
        },
        source="genwatt tiny form of " + ("google/umt5-xxl" if umt5 else "google/t5-v1_1-xxl"),
    )


def tiny_clip(
    name: str, *, with_projection: bool = False, hidden: int = TINY_TEXT_DIM
) -> ComponentSpec:
    return ComponentSpec(
        name=name,
        role="text_encoder",
        library="transformers",
        class_name="CLIPTextModelWithProjection" if with_projection else "CLIPTextModel",
        config_class="CLIPTextConfig",
        config={
            "vocab_size": vocab_size("clip"),
            "hidden_size": hidden,
            "intermediate_size": 2 * hidden,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 77,
            "projection_dim": hidden,
            "hidden_act": "quick_gelu",
            "bos_token_id": token_id("clip", "bos"),
            "eos_token_id": token_id("clip", "eos"),
            "pad_token_id": token_id("clip", "pad"),
        },
        source="genwatt tiny form of openai/clip-vit-large-patch14 (text tower)",
    )


def tiny_sd_vae(of: str, **overrides: Any) -> ComponentSpec:
    """The image VAE at 1/16 of the width, still four levels (8x spatial compression)."""
    config = sd_vae_config(
        block_out_channels=[8, 16, 32, 32],
        layers_per_block=1,
        norm_num_groups=8,
        sample_size=64,
        **overrides,
    )
    return ComponentSpec(
        name="vae",
        role="vae",
        library="diffusers",
        class_name="AutoencoderKL",
        config=config,
        source="genwatt tiny form of " + of,
    )
