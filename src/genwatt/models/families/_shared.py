"""What the families share: text encoders, the image VAE, and the way a tiny form is
derived from a real entry.

T5-XXL alone conditions CogVideoX, Mochi, LTX-Video, SD3 and FLUX; CLIP ViT-L/14 four
families. Writing each config once keeps them from drifting apart. A tiny spec is the
real one with smaller configs, so it inherits the family's rules (sizes, frames,
guidance, scheduler) instead of restating them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from genwatt.models.spec import ComponentSpec, Defaults, ModelSpec, Role
from genwatt.models.tokenizer import token_id, vocab_size

# Pipelines whose only text encoders are CLIP pad every prompt to 77 tokens and take no
# max_sequence_length argument (SD 1.5, SDXL, AnimateDiff).
CLIP_ONLY_PROMPTS: dict[str, Any] = {
    "max_text_tokens_limit": 77,
    "text_tokens_fixed": True,
    "takes_max_sequence_length": False,
}


def hub_source(repo: str, folder: str | None = None) -> str:
    """The citation of a config: "config.json of the vae/ folder in <repo>"."""
    return f"config.json of the {folder}/ folder in {repo}" if folder else f"config.json of {repo}"


def diffusers_part(
    name: str, role: Role, class_name: str, config: dict[str, Any], source: str, **extra: Any
) -> ComponentSpec:
    """A component built by a diffusers class (transformer, UNet, VAE, motion adapter)."""
    return ComponentSpec(
        name=name,
        role=role,
        library="diffusers",
        class_name=class_name,
        config=config,
        source=source,
        **extra,
    )


def tiny_part(
    real: ComponentSpec, config: dict[str, Any], of: str, params: int | None = None
) -> ComponentSpec:
    """The miniature of a real component: same slot, role and class, a tiny config."""
    return ComponentSpec(
        name=real.name,
        role=real.role,
        library=real.library,
        class_name=real.class_name,
        config_class=real.config_class,
        config=config,
        source=f"genwatt tiny form of {of}",
        params=params,
    )


def tiny_spec(
    real: ModelSpec,
    name: str,
    components: tuple[ComponentSpec, ...],
    defaults: Defaults,
    **changes: Any,
) -> ModelSpec:
    """The tiny form of ``real``: its pipeline, rules and scheduler, tiny components,
    float32, no repo; ``changes`` overrides anything else that must differ."""
    return dataclasses.replace(
        real,
        name=name,
        repo_id=None,
        pipeline_repo_id=None,
        components=components,
        defaults=defaults,
        torch_dtype="float32",
        tiny_name=name,
        default_weights="tiny",
        aliases=(),
        published_params=None,
        notes="",
        **changes,
    )


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
# Wan-AI/Wan2.1-T2V-1.3B-Diffusers (the encoder half only): T5-XXL's shape with a
# 256k multilingual vocabulary (UMT5 also gives every layer its own position bias).
UMT5_XXL_CONFIG: dict[str, Any] = {**T5_XXL_CONFIG, "vocab_size": 256384}

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
        source=hub_source(repo, folder) + " (google/t5-v1_1-xxl)",
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
        source=hub_source(repo, "text_encoder") + " (google/umt5-xxl)",
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
        source=hub_source(repo, folder) + " (openai/clip-vit-large-patch14)",
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
        source=hub_source(repo, folder) + " (OpenCLIP ViT-bigG/14)",
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


def tiny_sd_vae(real: ComponentSpec, of: str) -> ComponentSpec:
    """The image VAE at 1/16 of the width, still four levels (8x spatial compression)."""
    config = {
        **real.config,
        "block_out_channels": [8, 16, 32, 32],
        "layers_per_block": 1,
        "norm_num_groups": 8,
        "sample_size": 64,
    }
    return tiny_part(real, config, of)
