"""MMDiT image transformers: Stable Diffusion 3 (``SD3Transformer2DModel``) and FLUX.1
(``FluxTransformer2DModel``).

Both attend jointly over image and text tokens with separate weights per stream. SD3's
last block keeps no text output; FLUX adds single-stream blocks (the same shape as
HunyuanVideo's) after its double-stream ones and packs 2x2 latent patches into 64
channels before a plain linear embedding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genwatt.flops.hunyuanvideo import dual_stream_block, single_stream_block
from genwatt.flops.result import (
    ATTENTION_PROJECTIONS,
    ATTENTION_SCORES,
    CONDITIONING,
    MLP,
    PATCH_EMBED_AND_HEAD,
    ForwardFlops,
)
from genwatt.flops.shapes import LatentGrid
from genwatt.flops.tally import TIMESTEP_CHANNELS, Tally


def image_tokens(grid: LatentGrid, patch: int = 2) -> int:
    """SD3 patchifies 2x2; FluxPipeline packs 2x2 patches before the transformer."""
    return (grid.height // patch) * (grid.width // patch)


def sd3_forward(config: Mapping[str, Any], grid: LatentGrid, text_tokens: int) -> ForwardFlops:
    """One SD3 transformer forward for one sample (``text_tokens`` = 77 CLIP + T5)."""
    c = config
    d = c["num_attention_heads"] * c["attention_head_dim"]
    p = c["patch_size"]
    n = image_tokens(grid, p)
    text = text_tokens
    out_channels = c["out_channels"] or c["in_channels"]

    t = Tally()
    t.conv(PATCH_EMBED_AND_HEAD, n, c["in_channels"], d, p * p)  # pos_embed.proj
    t.embedder(CONDITIONING, TIMESTEP_CHANNELS, d)
    t.embedder(CONDITIONING, c["pooled_projection_dim"], d)
    t.linear(CONDITIONING, text, c["joint_attention_dim"], c["caption_projection_dim"])
    for i in range(c["num_layers"]):
        last = i == c["num_layers"] - 1
        t.linear(CONDITIONING, 1, d, 6 * d)  # norm1
        t.linear(CONDITIONING, 1, d, 2 * d if last else 6 * d)  # norm1_context
        t.linear(ATTENTION_PROJECTIONS, n, d, 3 * d)
        t.linear(ATTENTION_PROJECTIONS, text, d, 3 * d)
        t.attention(ATTENTION_SCORES, n + text, n + text, d)
        t.linear(ATTENTION_PROJECTIONS, n, d, d)
        t.feed_forward(MLP, n, d, 4 * d)
        if not last:
            t.linear(ATTENTION_PROJECTIONS, text, d, d)  # to_add_out
            t.feed_forward(MLP, text, d, 4 * d)  # ff_context
    t.linear(CONDITIONING, 1, d, 2 * d)  # norm_out
    t.linear(PATCH_EMBED_AND_HEAD, n, d, p * p * out_channels)
    return t.result(n)


def flux_forward(config: Mapping[str, Any], grid: LatentGrid, text_tokens: int) -> ForwardFlops:
    """One FLUX transformer forward for one sample."""
    c = config
    d = c["num_attention_heads"] * c["attention_head_dim"]
    n = image_tokens(grid)
    text = text_tokens
    p = c["patch_size"]
    out_channels = c["out_channels"] or c["in_channels"]

    t = Tally()
    t.linear(PATCH_EMBED_AND_HEAD, n, c["in_channels"], d)  # x_embedder
    t.embedder(CONDITIONING, TIMESTEP_CHANNELS, d)
    if c["guidance_embeds"]:
        t.embedder(CONDITIONING, TIMESTEP_CHANNELS, d)
    t.embedder(CONDITIONING, c["pooled_projection_dim"], d)
    t.linear(CONDITIONING, text, c["joint_attention_dim"], d)  # context_embedder
    for _ in range(c["num_layers"]):
        dual_stream_block(t, d, 4 * d, n, text)
    for _ in range(c["num_single_layers"]):
        single_stream_block(t, d, 4 * d, n + text)
    t.linear(CONDITIONING, 1, d, 2 * d)  # norm_out
    t.linear(PATCH_EMBED_AND_HEAD, n, d, p * p * out_channels)
    return t.result(n)
