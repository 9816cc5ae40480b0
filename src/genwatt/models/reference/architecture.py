"""The reference model's architecture and sampling defaults, as plain data.

Why plain data in a module of its own: this is the single source of the architecture.
The registry (``genwatt.models.families.reference``) states it from here and must import
without numpy or torch; ``pipeline`` builds and ``training`` trains from the same dicts,
so the registered model and the trained one cannot disagree.

Sampling asks ``WanPipeline`` for ``frames - 1`` frames: it rounds ``num_frames`` up to
``k * scale_factor_temporal + 1``, which with no temporal compression is ``n + 1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genwatt.models.reference.captions import COLOURS, DIRECTIONS, SHAPES

NAME = "wan-reference"
MAX_TEXT_TOKENS = 8  # its captions are at most 7 words + </s>
PATCH_PX = 4  # 4x4 RGB pixel patches become 48 latent channels
ROPE_POSITIONS = 64  # rope_max_seq_len: rotary positions per axis (frames, rows, columns)
#: Object motion in the training clips, pixels per frame: one latent pixel, half a
#: transformer token. With the codec's 4 px patches and the transformer's 2x2 latent
#: patches one token covers 8x8 pixels; an object stepping a whole token per frame is cut
#: into tokens the same way in every frame, so the sign of its motion shows in no token's
#: content, and the model cannot learn it (``docs/reference-model.md``).
MOTION_PX = 4

SPECIAL_TOKENS = ("<pad>", "</s>", "<unk>")
#: The tokenizer's words, in id order: the specials, then every caption word.
VOCABULARY: tuple[str, ...] = (*SPECIAL_TOKENS, "a", *COLOURS, *SHAPES, "moves", *DIRECTIONS)

# The transformer: 4 layers of 4 heads x 64, patch (1, 2, 2), 48 channels. Width 256 on
# purpose: a token carries 2x2 latent pixels x 48 channels = 192 values, and the velocity
# target passes the input noise through, so a narrower model loses part of every token's
# noise in the patch embedding and its loss cannot fall below a floor at any noise level.
# Heads of 64 also give the rotary embedding more than one useful frequency per spatial
# axis at one-token distances.
TRANSFORMER_CONFIG: dict[str, Any] = {
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

# The text encoder: a 2-layer umT5 encoder over the caption vocabulary, frozen at its
# seeded initialisation as WAN keeps its UMT5 frozen (``training`` says why).
TEXT_ENCODER_CONFIG: dict[str, Any] = {
    "vocab_size": len(VOCABULARY),
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

# The codec of ``pipeline.build_pipeline`` with its default (identity) latent statistics;
# the trained ones come with the weights and change no shape or cost.
CODEC_CONFIG: dict[str, Any] = {"patch_px": PATCH_PX, "z_dim": 3 * PATCH_PX * PATCH_PX}

# The scheduler: WAN2.1's UniPC on flow sigmas, shift 3.
SCHEDULER_CONFIG: dict[str, Any] = {
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


@dataclass(frozen=True)
class SamplingDefaults:
    """How the reference model is sampled unless a caller says otherwise: 32x32 pixels,
    3 frames, 30 steps, guidance 5 run as WAN runs it (separate conditional and
    unconditional calls)."""

    height: int = 32
    width: int = 32
    frames: int = 3
    steps: int = 30
    guidance: float = 5.0

    def call_kwargs(self) -> dict[str, Any]:
        """``WanPipeline.__call__`` arguments; asks for ``frames - 1`` (see module doc)."""
        return {
            "height": self.height,
            "width": self.width,
            "num_frames": self.frames - 1,
            "num_inference_steps": self.steps,
            "guidance_scale": self.guidance,
            "max_sequence_length": MAX_TEXT_TOKENS,
        }


DEFAULTS = SamplingDefaults()
