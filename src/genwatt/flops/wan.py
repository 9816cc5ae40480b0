"""Wan 2.1 (``WanTransformer3DModel``): self-attention over video tokens, cross-attention
to 512 umT5 tokens, all modulation from one timestep projection.

Per block: norm -> self-attention (q, k, v, out; RMS q/k norms, rotary) -> cross-
attention (q and out on video tokens, k and v on text) -> GELU MLP. The text is padded
to its full length by the pipeline, so every forward sees ``max_text_tokens`` of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from genwatt.flops.result import (
    ATTENTION_PROJECTIONS,
    ATTENTION_SCORES,
    CONDITIONING,
    CROSS_ATTENTION_PROJECTIONS,
    CROSS_ATTENTION_SCORES,
    MLP,
    PATCH_EMBED_AND_HEAD,
    ForwardFlops,
)
from genwatt.flops.shapes import LatentGrid
from genwatt.flops.tally import Tally


def video_tokens(config: Mapping[str, Any], grid: LatentGrid) -> int:
    p_t, p_h, p_w = config["patch_size"]
    return (grid.frames // p_t) * (grid.height // p_h) * (grid.width // p_w)


def forward(config: Mapping[str, Any], grid: LatentGrid, text_tokens: int) -> ForwardFlops:
    """One transformer forward for one sample."""
    c = config
    d = c["num_attention_heads"] * c["attention_head_dim"]
    n = video_tokens(c, grid)
    patch = math.prod(c["patch_size"])
    out_channels = c["out_channels"] or c["in_channels"]

    block = Tally()
    for _ in range(4):  # to_q, to_k, to_v, to_out
        block.linear(ATTENTION_PROJECTIONS, n, d, d)
    block.attention(ATTENTION_SCORES, n, n, d)
    block.linear(CROSS_ATTENTION_PROJECTIONS, n, d, d)  # to_q
    block.linear(CROSS_ATTENTION_PROJECTIONS, text_tokens, d, 2 * d)  # to_k, to_v
    block.linear(CROSS_ATTENTION_PROJECTIONS, n, d, d)  # to_out
    block.attention(CROSS_ATTENTION_SCORES, n, text_tokens, d)
    block.feed_forward(MLP, n, d, c["ffn_dim"])

    t = Tally()
    t.conv(PATCH_EMBED_AND_HEAD, n, c["in_channels"], d, patch)
    t.embedder(CONDITIONING, c["freq_dim"], d)  # time_embedder
    t.linear(CONDITIONING, 1, d, 6 * d)  # time_proj: the six modulation vectors
    t.embedder(CONDITIONING, c["text_dim"], d, tokens=text_tokens)  # text_embedder
    t.merge(block, c["num_layers"])
    t.linear(PATCH_EMBED_AND_HEAD, n, d, out_channels * patch)  # proj_out
    return t.result(n)
