"""genwatt's own trained text-to-video model, "wan-reference": a miniature WAN 2.1.

Why it is registered: strategies that cut energy (``genwatt.mitigate``) are judged on it,
and their savings should be measured with the same ``bench`` and ``sweep`` machinery,
FLOP counter and predictor as every other model. It is the real ``WanPipeline`` code
path (``WanTransformer3DModel``, ``UMT5EncoderModel``, ``UniPCMultistepScheduler``) with
two parts of genwatt's own: a word-level tokenizer over the caption vocabulary and
``PatchCodec``, an exact pixel-patch codec in place of the VAE (4x in space, none in time).

The model itself lives in ``genwatt.models.reference``; this entry states it from there:
the architecture is plain data in ``genwatt.models.reference.architecture`` (light, so
the registry stays free of numpy and torch), and the tokenizer and loader are named by
importing them. Its weights ship inside the package, so ``pretrained`` loads them with
``load_trained`` and never reaches the Hub; ``random`` builds the same architecture with
random weights. It is already a miniature (about four million parameters, CPU-sized), so
it is its own tiny form: ``tiny`` means ``random`` here, as for the other miniatures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genwatt.models.families._shared import diffusers_part, text_encoder_part
from genwatt.models.reference import architecture
from genwatt.models.reference.architecture import (
    CODEC_CONFIG,
    DEFAULTS,
    MAX_TEXT_TOKENS,
    NAME,
    PATCH_PX,
    ROPE_POSITIONS,
    SCHEDULER_CONFIG,
    TEXT_ENCODER_CONFIG,
    TRANSFORMER_CONFIG,
)
from genwatt.models.reference.checkpoint import load_trained
from genwatt.models.reference.pipeline import build_pipeline, build_tokenizer
from genwatt.models.spec import (
    ComponentSpec,
    Defaults,
    FrameRule,
    ModelSpec,
    SchedulerSpec,
    SizeRule,
    TokenizerSpec,
)

SOURCE = architecture.__name__
#: PatchCodec's module, named rather than imported: it imports torch at module level.
CODEC_MODULE = "genwatt.models.reference.codec"


def _import_path(function: Callable[..., Any]) -> str:
    """``module:name`` of ``function``, the form the registry resolves when it builds."""
    return f"{function.__module__}:{function.__qualname__}"


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
            TRANSFORMER_CONFIG,
            f"TRANSFORMER_CONFIG in {SOURCE}",
            params=3_828_160,
        ),
        ComponentSpec(
            name="vae",
            role="vae",
            library="genwatt",
            module=CODEC_MODULE,
            class_name="PatchCodec",
            config=CODEC_CONFIG,
            source=f"{build_pipeline.__name__} in {build_pipeline.__module__} ({CODEC_MODULE})",
            params=0,  # a reshape: no weights at all
        ),
        text_encoder_part(
            "text_encoder",
            "UMT5EncoderModel",
            "UMT5Config",
            TEXT_ENCODER_CONFIG,
            f"TEXT_ENCODER_CONFIG in {SOURCE}",
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
            factory=_import_path(build_tokenizer),
        ),
    ),
    scheduler=SchedulerSpec(
        class_name="UniPCMultistepScheduler",
        config=SCHEDULER_CONFIG,
        source=f"SCHEDULER_CONFIG in {SOURCE}",
    ),
    defaults=Defaults(
        height=DEFAULTS.height,
        width=DEFAULTS.width,
        num_frames=DEFAULTS.frames,
        steps=DEFAULTS.steps,
        guidance=DEFAULTS.guidance,
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
    pretrained_loader=_import_path(load_trained),
    notes=(
        "genwatt's own miniature WAN, trained on synthetic captioned videos "
        "(genwatt.models.reference); its pretrained weights ship with genwatt."
    ),
)

SPECS: tuple[ModelSpec, ...] = (WAN_REFERENCE,)
