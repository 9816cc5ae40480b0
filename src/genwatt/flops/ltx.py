"""LTX-Video (``LTXVideoTransformer3DModel``): a PixArt-style DiT on the VAE's 1:192
latent, one token per latent pixel (patch 1).

Per block: self-attention over video tokens, cross-attention to the T5 tokens (padded
to ``max_text_tokens``; the mask is additive, so padding still costs), GELU MLP.
"""

from __future__ import annotations

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
from genwatt.flops.tally import TIMESTEP_CHANNELS, Tally


def video_tokens(config: Mapping[str, Any], grid: LatentGrid) -> int:
    p, p_t = config["patch_size"], config["patch_size_t"]
    return (grid.frames // p_t) * (grid.height // p) * (grid.width // p)


def forward(config: Mapping[str, Any], grid: LatentGrid, text_tokens: int) -> ForwardFlops:
    """One transformer forward for one sample."""
    c = config
    d = c["num_attention_heads"] * c["attention_head_dim"]
    n = video_tokens(c, grid)
    cross = c["cross_attention_dim"]

    block = Tally()
    for _ in range(4):
        block.linear(ATTENTION_PROJECTIONS, n, d, d)
    block.attention(ATTENTION_SCORES, n, n, d)
    block.linear(CROSS_ATTENTION_PROJECTIONS, n, d, d)  # to_q
    block.linear(CROSS_ATTENTION_PROJECTIONS, text_tokens, cross, 2 * d)  # to_k, to_v
    block.linear(CROSS_ATTENTION_PROJECTIONS, n, d, d)  # to_out
    block.attention(CROSS_ATTENTION_SCORES, n, text_tokens, d)
    block.feed_forward(MLP, n, d, 4 * d)

    t = Tally()
    t.linear(PATCH_EMBED_AND_HEAD, n, c["in_channels"], d)  # proj_in
    t.embedder(CONDITIONING, TIMESTEP_CHANNELS, d)  # time_embed.emb
    t.linear(CONDITIONING, 1, d, 6 * d)  # time_embed.linear
    t.embedder(CONDITIONING, c["caption_channels"], d, tokens=text_tokens)
    t.merge(block, c["num_layers"])
    t.linear(PATCH_EMBED_AND_HEAD, n, d, c["out_channels"])  # proj_out
    return t.result(n)
