"""What the families share: text encoders, the image VAE, the way a part or scheduler
is cited from its Hub repo, and the way a tiny form is derived from a real entry.

T5-XXL alone conditions CogVideoX, Mochi, LTX-Video, SD3 and FLUX; CLIP ViT-L/14 four
families. Writing each config once keeps them from drifting apart. A tiny spec is the
real one with smaller configs, so it inherits the family's rules (sizes, frames,
guidance, scheduler) instead of restating them; ``tiny_form`` writes the common case
(denoiser, VAE, text encoders; two steps at the real guidance) once for all families.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from genwatt.models.spec import ComponentSpec, Defaults, ModelSpec, Role, SchedulerSpec
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


def scheduler_source(repo: str) -> str:
    """The citation of a scheduler: its scheduler_config.json in ``repo``."""
    return f"scheduler_config.json of the scheduler/ folder in {repo}"


def flow_match_scheduler(repo: str, **config: Any) -> SchedulerSpec:
    """The FlowMatchEulerDiscreteScheduler of ``repo`` (1000 training timesteps); ``config``
    holds the rest of its scheduler_config.json."""
    return SchedulerSpec(
        class_name="FlowMatchEulerDiscreteScheduler",
        config={"num_train_timesteps": 1000, **config},
        source=scheduler_source(repo),
    )


def resolution_shifted_scheduler(
    repo: str,
    shift: float,
    base_shift: float,
    max_shift: float,
    seq_lens: tuple[int, int],
    **config: Any,
) -> SchedulerSpec:
    """A flow-matching scheduler whose shift grows with the image token count: from
    ``base_shift`` at ``seq_lens[0]`` tokens to ``max_shift`` at ``seq_lens[1]``."""
    return flow_match_scheduler(
        repo,
        shift=shift,
        use_dynamic_shifting=True,
        base_shift=base_shift,
        max_shift=max_shift,
        base_image_seq_len=seq_lens[0],
        max_image_seq_len=seq_lens[1],
        **config,
    )


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


def hub_denoiser(
    repo: str,
    class_name: str,
    config: dict[str, Any],
    *,
    params: int,
    published_params: float,
    published_source: str,
    folder: str = "transformer",
) -> ComponentSpec:
    """The network run every step, as the transformer/ (or unet/) folder of ``repo``."""
    return diffusers_part(
        folder,
        "denoiser",
        class_name,
        config,
        hub_source(repo, folder),
        params=params,
        published_params=published_params,
        published_source=published_source,
    )


def hub_vae(
    repo: str, class_name: str, config: dict[str, Any], params: int, **extra: Any
) -> ComponentSpec:
    """The VAE, as the vae/ folder of ``repo``."""
    return diffusers_part(
        "vae", "vae", class_name, config, hub_source(repo, "vae"), params=params, **extra
    )


def text_encoder_part(
    name: str,
    class_name: str,
    config_class: str,
    config: dict[str, Any],
    source: str,
    **extra: Any,
) -> ComponentSpec:
    """A text encoder built by a transformers class from its config class."""
    return ComponentSpec(
        name=name,
        role="text_encoder",
        library="transformers",
        class_name=class_name,
        config_class=config_class,
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
    components: tuple[ComponentSpec, ...],
    defaults: Defaults,
    **changes: Any,
) -> ModelSpec:
    """The tiny form of ``real``, named by its ``tiny_name``: its pipeline, rules and
    scheduler, tiny components, float32, no repo; ``changes`` overrides anything else
    that must differ."""
    return dataclasses.replace(
        real,
        name=real.tiny_name,
        repo_id=None,
        pipeline_repo_id=None,
        components=components,
        defaults=defaults,
        torch_dtype="float32",
        default_weights="tiny",
        aliases=(),
        published_params=None,
        notes="",
        **changes,
    )


def tiny_defaults(
    real: ModelSpec, *, size: int = 32, num_frames: int | None = None, max_text_tokens: int = 16
) -> Defaults:
    """The settings of a tiny form: two steps at ``size`` px, the real model's guidance,
    and for video 9 frames unless ``num_frames`` says otherwise (three latent frames at
    4x temporal compression)."""
    if num_frames is None and real.task == "t2v":
        num_frames = 9
    return Defaults(
        height=size,
        width=size,
        num_frames=num_frames,
        steps=2,
        guidance=real.defaults.guidance,
        max_text_tokens=max_text_tokens,
    )


def tiny_form(
    real: ModelSpec,
    denoiser: dict[str, Any],
    params: int,
    vae: dict[str, Any],
    text_encoders: tuple[ComponentSpec, ...],
    *,
    size: int = 32,
    num_frames: int | None = None,
    max_text_tokens: int = 16,
    **changes: Any,
) -> ModelSpec:
    """The tiny form of a diffusion model: its denoiser (of ``params`` parameters) and VAE
    with tiny configs, then the tiny ``text_encoders``, run as ``tiny_defaults`` says."""
    of = real.repo_id or real.name
    return tiny_spec(
        real,
        components=(
            tiny_part(real.denoiser, denoiser, of, params=params),
            tiny_part(real.component("vae"), vae, of),
            *text_encoders,
        ),
        defaults=tiny_defaults(
            real, size=size, num_frames=num_frames, max_text_tokens=max_text_tokens
        ),
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

# config.json of text_encoder/ in stabilityai/stable-diffusion-2-1 (the text tower of
# OpenCLIP ViT-H/14). 23 of its 24 layers: SD 2 conditions on the penultimate layer, so
# the diffusers conversion drops the last one. GELU, not CLIP-L's quick GELU.
CLIP_H_CONFIG: dict[str, Any] = {
    "vocab_size": 49408,
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 23,
    "num_attention_heads": 16,
    "max_position_embeddings": 77,
    "projection_dim": 512,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-5,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "pad_token_id": 1,
}

_SD3_PAPER = "Esser et al. 2024 (SD3 paper), Table of text encoders"


def _clip_class(with_projection: bool) -> str:
    """CLIP's text tower, with the projection to the pooled embedding where it is used."""
    return "CLIPTextModelWithProjection" if with_projection else "CLIPTextModel"


def t5_xxl(name: str, repo: str, folder: str) -> ComponentSpec:
    return text_encoder_part(
        name,
        "T5EncoderModel",
        "T5Config",
        T5_XXL_CONFIG,
        hub_source(repo, folder) + " (google/t5-v1_1-xxl)",
        params=4_762_310_656,
        published_params=4.7e9,
        published_source=_SD3_PAPER + ": T5-XXL encoder 4.7B",
    )


def umt5_xxl(repo: str) -> ComponentSpec:
    return text_encoder_part(
        "text_encoder",
        "UMT5EncoderModel",
        "UMT5Config",
        UMT5_XXL_CONFIG,
        hub_source(repo, "text_encoder") + " (google/umt5-xxl)",
        params=5_680_910_336,
        published_params=5.7e9,
        published_source=(
            "models_t5_umt5-xxl-enc-bf16.pth in the original Wan-AI/Wan2.1-T2V-1.3B repo: "
            "11.4 GB at 2 bytes per parameter"
        ),
    )


def clip_l(name: str, repo: str, folder: str, *, with_projection: bool = False) -> ComponentSpec:
    return text_encoder_part(
        name,
        _clip_class(with_projection),
        "CLIPTextConfig",
        CLIP_L_CONFIG,
        hub_source(repo, folder) + " (openai/clip-vit-large-patch14)",
        params=123_650_304 if with_projection else 123_060_480,
        published_params=123e6,
        published_source="stable-diffusion-v1-5 model card: '123M text encoder'",
    )


def clip_g(name: str, repo: str, folder: str) -> ComponentSpec:
    return text_encoder_part(
        name,
        _clip_class(with_projection=True),
        "CLIPTextConfig",
        CLIP_G_CONFIG,
        hub_source(repo, folder) + " (OpenCLIP ViT-bigG/14)",
        params=694_659_840,
        published_params=695e6,
        published_source=_SD3_PAPER + ": CLIP-G/14 695M",
    )


def clip_h(name: str, repo: str, folder: str) -> ComponentSpec:
    return text_encoder_part(
        name,
        _clip_class(with_projection=False),
        "CLIPTextConfig",
        CLIP_H_CONFIG,
        hub_source(repo, folder) + " (OpenCLIP ViT-H/14)",
        params=340_387_840,
        published_params=354e6,
        published_source=(
            "open_clip docs/model_profile.csv: ViT-H-14 text tower 354.03M "
            "(24 layers and a text projection; SD 2 keeps 23 layers and no projection)"
        ),
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
    return text_encoder_part(
        name,
        "UMT5EncoderModel" if umt5 else "T5EncoderModel",
        "UMT5Config" if umt5 else "T5Config",
        {
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
        "genwatt tiny form of " + ("google/umt5-xxl" if umt5 else "google/t5-v1_1-xxl"),
    )


def tiny_clip(
    name: str,
    *,
    with_projection: bool = False,
    hidden: int = TINY_TEXT_DIM,
    hidden_act: str = "quick_gelu",
    of: str = "openai/clip-vit-large-patch14",
) -> ComponentSpec:
    return text_encoder_part(
        name,
        _clip_class(with_projection),
        "CLIPTextConfig",
        {
            "vocab_size": vocab_size("clip"),
            "hidden_size": hidden,
            "intermediate_size": 2 * hidden,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 77,
            "projection_dim": hidden,
            "hidden_act": hidden_act,
            "bos_token_id": token_id("clip", "bos"),
            "eos_token_id": token_id("clip", "eos"),
            "pad_token_id": token_id("clip", "pad"),
        },
        f"genwatt tiny form of {of} (text tower)",
    )


def tiny_sd_vae(real: ModelSpec) -> dict[str, Any]:
    """The config of ``real``'s image VAE at 1/16 of the width, still four levels (8x
    spatial compression)."""
    return {
        **real.component("vae").config,
        "block_out_channels": [8, 16, 32, 32],
        "layers_per_block": 1,
        "norm_num_groups": 8,
        "sample_size": 64,
    }
