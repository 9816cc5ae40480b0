"""Mochi 1 (``MochiTransformer3DModel``): an asymmetric dual-stream DiT.

Video tokens are 3072 wide, text tokens 1536; each block projects both into one joint
attention and runs a SwiGLU MLP per stream (the last block keeps no text output).
Unlike the other families, Mochi drops padding text tokens from the attention itself:
per sample it attends over ``video + valid text`` tokens, so the unconditional pass of
classifier-free guidance (the empty prompt: one T5 token, its end-of-sequence) costs a
little less than the conditional one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genwatt.flops.result import (
    ATTENTION_PROJECTIONS,
    ATTENTION_SCORES,
    CONDITIONING,
    MLP,
    OTHER,
    PATCH_EMBED_AND_HEAD,
    ForwardFlops,
)
from genwatt.flops.shapes import LatentGrid
from genwatt.flops.tally import Tally
from genwatt.models.params import ResolvedParams

# T5 encodes the empty negative prompt as one token: "</s>".
EMPTY_PROMPT_TOKENS = 1
POOLER_HEADS = 8  # MochiCombinedTimestepCaptionEmbedding's attention pool


def valid_text_tokens(params: ResolvedParams, *, negative: bool) -> int:
    """Unpadded prompt tokens: the empty negative prompt has one; the prompt is taken to
    fill ``max_text_tokens`` (an upper bound: a short prompt attends over fewer)."""
    return EMPTY_PROMPT_TOKENS if negative else params.max_text_tokens


def video_tokens(config: Mapping[str, Any], grid: LatentGrid) -> int:
    p = config["patch_size"]
    return grid.frames * (grid.height // p) * (grid.width // p)


def forward(
    config: Mapping[str, Any], grid: LatentGrid, text_tokens: int, valid_tokens: int
) -> ForwardFlops:
    """One forward for one sample: ``text_tokens`` padded, ``valid_tokens`` attended."""
    c = config
    d = c["num_attention_heads"] * c["attention_head_dim"]
    pd = c["pooled_projection_dim"]
    e = c["text_embed_dim"]
    n = video_tokens(c, grid)
    t_len = text_tokens
    p = c["patch_size"]
    out_channels = c["out_channels"] or c["in_channels"]
    ff_inner = (4 * d * 2) // 3
    ff_context_inner = (4 * pd * 2) // 3

    def block(last: bool) -> Tally:
        b = Tally()
        b.linear(CONDITIONING, 1, d, 4 * d)  # norm1
        b.linear(CONDITIONING, 1, d, pd if last else 4 * pd)  # norm1_context
        b.linear(ATTENTION_PROJECTIONS, n, d, 3 * d)  # to_q, to_k, to_v
        b.linear(ATTENTION_PROJECTIONS, t_len, pd, 3 * d)  # add_q/k/v_proj
        b.attention(ATTENTION_SCORES, n + valid_tokens, n + valid_tokens, d)
        b.linear(ATTENTION_PROJECTIONS, n, d, d)  # to_out
        if not last:
            b.linear(ATTENTION_PROJECTIONS, t_len, d, pd)  # to_add_out
        b.feed_forward(MLP, n, d, ff_inner, gated=True)
        if not last:
            b.feed_forward(MLP, t_len, pd, ff_context_inner, gated=True)
        return b

    t = Tally()
    t.embedder(CONDITIONING, c["time_embed_dim"], d)  # timestep_embedder
    # The attention pool over the text: k and v over mean + tokens, q from the mean.
    t.linear(CONDITIONING, t_len + 1, e, 2 * e)
    t.linear(CONDITIONING, 1, e, e)
    t.attention(CONDITIONING, 1, t_len + 1, e)
    t.linear(CONDITIONING, 1, e, d)
    t.linear(CONDITIONING, t_len, e, pd)  # caption_proj
    t.conv(PATCH_EMBED_AND_HEAD, n, c["in_channels"], d, p * p)
    t.linear(OTHER, n, 3, d // 2)  # rotary angles: einsum of positions and frequencies
    for i in range(c["num_layers"]):
        t.merge(block(last=i == c["num_layers"] - 1))
    t.linear(CONDITIONING, 1, d, 2 * d)  # norm_out
    t.linear(PATCH_EMBED_AND_HEAD, n, d, p * p * out_channels)
    return t.result(n)
