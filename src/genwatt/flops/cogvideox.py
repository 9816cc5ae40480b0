"""CogVideoX (``CogVideoXTransformer3DModel``): text and video in one sequence.

The 226 text tokens are concatenated in front of the video tokens, so the q/k/v/out
projections, the MLP and the attention all run over ``text + video`` tokens in every
block; expert adaptive LayerNorms modulate the two parts from the timestep embedding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genwatt.flops.result import (
    ATTENTION_PROJECTIONS,
    ATTENTION_SCORES,
    CONDITIONING,
    MLP,
    PATCH_EMBED_AND_HEAD,
    ForwardFlops,
)
from genwatt.flops.shapes import LatentGrid
from genwatt.flops.tally import Tally


def video_tokens(config: Mapping[str, Any], grid: LatentGrid) -> int:
    p = config["patch_size"]
    p_t = config.get("patch_size_t") or 1
    return -(-grid.frames // p_t) * (grid.height // p) * (grid.width // p)


def forward(config: Mapping[str, Any], grid: LatentGrid, text_tokens: int) -> ForwardFlops:
    """One transformer forward for one sample."""
    c = config
    d = c["num_attention_heads"] * c["attention_head_dim"]
    n = video_tokens(c, grid)
    seq = n + text_tokens
    p = c["patch_size"]
    p_t = c.get("patch_size_t") or 1
    temb = c["time_embed_dim"]
    out_channels = c["out_channels"] or c["in_channels"]

    block = Tally()
    block.linear(CONDITIONING, 1, temb, 6 * d)  # norm1 (CogVideoXLayerNormZero)
    for _ in range(4):
        block.linear(ATTENTION_PROJECTIONS, seq, d, d)
    block.attention(ATTENTION_SCORES, seq, seq, d)
    block.linear(CONDITIONING, 1, temb, 6 * d)  # norm2
    block.feed_forward(MLP, seq, d, 4 * d)

    t = Tally()
    t.embedder(CONDITIONING, d, temb)  # time_embedding (sinusoids of width inner_dim)
    t.linear(CONDITIONING, text_tokens, c["text_embed_dim"], d)  # patch_embed.text_proj
    t.conv(PATCH_EMBED_AND_HEAD, n, c["in_channels"], d, p * p * p_t)  # patch_embed.proj
    t.merge(block, c["num_layers"])
    t.linear(CONDITIONING, 1, temb, 2 * d)  # norm_out (AdaLayerNorm)
    t.linear(PATCH_EMBED_AND_HEAD, n, d, p * p * p_t * out_channels)  # proj_out
    return t.result(n)
