"""genwatt's own trained text-to-video model, "wan-reference": a miniature WAN 2.1.

Why it is registered: strategies that cut energy (``genwatt.mitigate``) are judged on it,
and their savings should be measured with the same ``bench`` and ``sweep`` machinery,
FLOP counter and predictor as every other model. It is the real ``WanPipeline`` code
path (``WanTransformer3DModel``, ``UMT5EncoderModel``, ``UniPCMultistepScheduler``) with
two parts of genwatt's own: a word-level tokenizer over the caption vocabulary and
``PatchCodec``, an exact pixel-patch codec in place of the VAE (4x in space, none in time).

The numbers below are the single source of the architecture: ``genwatt.mitigate.reference``
builds and trains from these dicts. They live here, as plain data, because that module
pulls in numpy and scipy and the registry must stay light. Its weights ship inside the
package, so ``pretrained`` loads them with ``load_trained`` and never reaches the Hub;
``random`` builds the same architecture with random weights. It is already a miniature
(about four million parameters, CPU-sized), so it is its own tiny form: ``tiny`` means
``random`` here, as for the other miniatures.
"""

from __future__ import annotations

from typing import Any

from genwatt.models.families._shared import diffusers_part
from genwatt.models.spec import (
    ComponentSpec,
    Defaults,
    FrameRule,
    ModelSpec,
    SchedulerSpec,
    SizeRule,
    TokenizerSpec,
)

NAME = "wan-reference"
SOURCE = "genwatt.mitigate.reference"
MAX_TEXT_TOKENS = 8  # its captions are at most 7 words + </s>
PATCH_PX = 4  # 4x4 RGB pixel patches become 48 latent channels
ROPE_POSITIONS = 64  # rope_max_seq_len: rotary positions per axis (frames, rows, columns)

# The transformer: 4 layers of 4 heads x 64, patch (1, 2, 2), 48 channels. Width 256 on
# purpose: a token carries 2x2 latent pixels x 48 channels = 192 values, and the velocity
# target passes the input noise through, so a narrower model (128 was tried) loses a third
# of every token's noise in the patch embedding and cannot fall below ~1/3 loss at any
# noise level. Heads of 64 also give the rotary embedding more than one useful frequency
# per spatial axis at one-token distances.
TRANSFORMER: dict[str, Any] = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 4,
    "attention_head_dim": 64,
    "in_channels": 3 * PATCH_PX * PATCH_PX,
    "out_channels": 3 * PATCH_PX * PATCH_PX,
    "text_dim": 64,
    "freq_dim": 64,
    "ffn_dim": 512,
    "num_layers": 4,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "eps": 1e-6,
    "rope_max_seq_len": ROPE_POSITIONS,
}

# The text encoder: a 2-layer umT5 encoder over the 18-word caption
# vocabulary (3 specials, "a", 6 colours, 3 shapes, "moves", 4 directions),
# frozen at its seeded initialisation as WAN keeps its UMT5 frozen.
TEXT_ENCODER: dict[str, Any] = {
    "vocab_size": 18,
    "d_model": 64,
    "d_kv": 16,
    "d_ff": 128,
    "num_layers": 2,
    "num_heads": 4,
    "relative_attention_num_buckets": 8,
    "relative_attention_max_distance": 16,
    "dropout_rate": 0.0,
    "feed_forward_proj": "gated-gelu",
    "pad_token_id": 0,
    "eos_token_id": 1,
}

# The codec of reference.build_pipeline with its default (identity) latent statistics;
# the trained ones come with the weights and change no shape or cost.
CODEC: dict[str, Any] = {"patch_px": PATCH_PX, "z_dim": 3 * PATCH_PX * PATCH_PX}

# The scheduler: WAN2.1's UniPC on flow sigmas, shift 3.
SCHEDULER: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "solver_order": 2,
    "prediction_type": "flow_prediction",
    "predict_x0": True,
    "solver_type": "bh2",
    "lower_order_final": True,
    "use_flow_sigmas": True,
    "flow_shift": 3.0,
    "timestep_spacing": "linspace",
    "final_sigmas_type": "zero",
}

WAN_REFERENCE = ModelSpec(
    name=NAME,
    repo_id=None,
    task="t2v",
    family="wan",
    pipeline_class="WanPipeline",
    components=(
        diffusers_part(
            "transformer",
            "denoiser",
            "WanTransformer3DModel",
            TRANSFORMER,
            f"TRANSFORMER_CONFIG in {SOURCE}",
            params=3_828_160,
        ),
        ComponentSpec(
            name="vae",
            role="vae",
            library="genwatt",
            module="genwatt.mitigate.codec",
            class_name="PatchCodec",
            config=CODEC,
            source=f"build_pipeline in {SOURCE} (genwatt.mitigate.codec)",
            params=0,  # a reshape: no weights at all
        ),
        ComponentSpec(
            name="text_encoder",
            role="text_encoder",
            library="transformers",
            class_name="UMT5EncoderModel",
            config_class="UMT5Config",
            config=TEXT_ENCODER,
            source=f"TEXT_ENCODER_CONFIG in {SOURCE}",
            params=83_456,
        ),
    ),
    # The kind describes its special tokens (T5's: <pad> 0, </s> 1, <unk> 2, </s>
    # appended); the vocabulary is the model's own.
    tokenizers=(
        TokenizerSpec(
            "tokenizer",
            "t5",
            MAX_TEXT_TOKENS,
            factory="genwatt.mitigate.reference:build_tokenizer",
        ),
    ),
    scheduler=SchedulerSpec(
        class_name="UniPCMultistepScheduler",
        config=SCHEDULER,
        source=f"SCHEDULER_CONFIG in {SOURCE}",
    ),
    defaults=Defaults(
        height=32,
        width=32,
        num_frames=3,
        steps=30,
        guidance=5.0,
        max_text_tokens=MAX_TEXT_TOKENS,
        source=f"SamplingDefaults in {SOURCE}",
    ),
    torch_dtype="float32",  # trained and sampled in float32 (stored as float16)
    tiny_name=NAME,
    size_rule=SizeRule(
        16,
        max_px=ROPE_POSITIONS * PATCH_PX * 2,
        reason=(
            "WanPipeline.check_inputs requires multiples of 16, and the transformer's "
            f"rotary table has {ROPE_POSITIONS} positions per axis (of {PATCH_PX * 2} px)"
        ),
    ),
    frame_rule=FrameRule(
        1,
        "pipeline_adds_one",
        max_frames=ROPE_POSITIONS,
        reason=f"its rotary table has {ROPE_POSITIONS} positions in time",
    ),
    guidance_kind="cfg",
    cfg_batched=False,  # WanPipeline: conditional and unconditional calls in turn
    max_text_tokens_limit=MAX_TEXT_TOKENS,
    pretrained_loader="genwatt.mitigate.reference:load_trained",
    notes=(
        "genwatt's own miniature WAN, trained on synthetic captioned videos "
        "(genwatt.mitigate.reference); its pretrained weights ship with genwatt."
    ),
)

SPECS: tuple[ModelSpec, ...] = (WAN_REFERENCE,)
