"""Text encoders: T5 and umT5 (encoder only), CLIP text towers, and HunyuanVideo's
Llama used as an encoder.

Every pipeline pads prompts to a fixed length (77 for CLIP, ``max_text_tokens`` for
T5, ``max_text_tokens + 95`` template tokens for HunyuanVideo's Llama) and the masks
only hide the padding, so the cost is that of the full padded sequence. CLIP's causal
mask and T5's relative position bias are elementwise and free to the counter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genwatt.errors import ConfigError
from genwatt.flops.result import ATTENTION_PROJECTIONS, ATTENTION_SCORES, MLP, OTHER, ForwardFlops
from genwatt.flops.tally import Tally


def t5_encoder(config: Mapping[str, Any], tokens: int) -> ForwardFlops:
    """``T5EncoderModel`` / ``UMT5EncoderModel``: attention of ``num_heads x d_kv``
    inside a ``d_model`` stream, gated-GELU MLP (two input matrices)."""
    c = config
    d, inner = c["d_model"], c["num_heads"] * c["d_kv"]
    gated = str(c.get("feed_forward_proj", "relu")).startswith("gated")
    t = Tally()
    for _ in range(c["num_layers"]):
        t.linear(ATTENTION_PROJECTIONS, tokens, d, 3 * inner)  # q, k, v
        t.attention(ATTENTION_SCORES, tokens, tokens, inner)
        t.linear(ATTENTION_PROJECTIONS, tokens, inner, d)  # o
        t.feed_forward(MLP, tokens, d, c["d_ff"], gated=gated)
    return t.result(tokens)


def clip_text(config: Mapping[str, Any], tokens: int, *, projection: bool) -> ForwardFlops:
    """``CLIPTextModel``; ``projection`` adds the ``text_projection`` of the pooled token."""
    c = config
    d = c["hidden_size"]
    t = Tally()
    for _ in range(c["num_hidden_layers"]):
        t.linear(ATTENTION_PROJECTIONS, tokens, d, 4 * d)  # q, k, v, out
        t.attention(ATTENTION_SCORES, tokens, tokens, d)
        t.feed_forward(MLP, tokens, d, c["intermediate_size"])
    if projection:
        t.linear(OTHER, 1, d, c["projection_dim"])
    return t.result(tokens)


def llama_layers(t: Tally, config: Mapping[str, Any], tokens: float, context: float) -> None:
    """All decoder layers of a Llama/Qwen2 model: ``tokens`` new rows, each attending
    over ``context`` positions on average (causal masking is not skipped by SDPA; the
    counter, like the kernels, pays for the full rectangle)."""
    c = config
    d = c["hidden_size"]
    heads = c["num_attention_heads"]
    head_dim = c.get("head_dim") or d // heads
    kv = c.get("num_key_value_heads") or heads
    for _ in range(c["num_hidden_layers"]):
        t.linear(ATTENTION_PROJECTIONS, tokens, d, (heads + 2 * kv) * head_dim)  # q, k, v
        t.attention(ATTENTION_SCORES, tokens, context, heads * head_dim)
        t.linear(ATTENTION_PROJECTIONS, tokens, heads * head_dim, d)  # o
        t.feed_forward(MLP, tokens, d, c["intermediate_size"], gated=True)  # gate/up, down


def llama_encoder(config: Mapping[str, Any], tokens: int) -> ForwardFlops:
    """``LlamaModel`` without its head: every layer runs even though HunyuanVideo reads
    the third-to-last hidden state."""
    t = Tally()
    llama_layers(t, config, tokens, tokens)
    return t.result(tokens)


def encoder_forward(class_name: str, config: Mapping[str, Any], tokens: int) -> ForwardFlops:
    """One prompt through the text encoder ``class_name``."""
    if class_name in ("T5EncoderModel", "UMT5EncoderModel"):
        return t5_encoder(config, tokens)
    if class_name in ("CLIPTextModel", "CLIPTextModelWithProjection"):
        return clip_text(config, tokens, projection=class_name.endswith("WithProjection"))
    if class_name == "LlamaModel":
        return llama_encoder(config, tokens)
    raise ConfigError(f"genwatt.flops has no formula for the text encoder {class_name}.")
