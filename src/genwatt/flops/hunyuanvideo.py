"""HunyuanVideo (``HunyuanVideoTransformer3DModel``): 20 dual-stream then 40
single-stream blocks over ``video + text`` tokens, after a 2-block text token refiner.

Dual-stream blocks keep separate weights for video and text and attend jointly;
single-stream blocks run one fused linear (q, k, v and the MLP's input) and one fused
output linear over the joint sequence. Guidance is an input (one pass per step).
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
from genwatt.flops.tally import TIMESTEP_CHANNELS, Tally


def video_tokens(config: Mapping[str, Any], grid: LatentGrid) -> int:
    p, p_t = config["patch_size"], config["patch_size_t"]
    return (grid.frames // p_t) * (grid.height // p) * (grid.width // p)


def dual_stream_block(t: Tally, d: int, mlp: int, n: int, text: int) -> None:
    """One MMDiT double block (HunyuanVideo's and FLUX's are the same shape)."""
    t.linear(CONDITIONING, 1, d, 6 * d)  # norm1
    t.linear(CONDITIONING, 1, d, 6 * d)  # norm1_context
    t.linear(ATTENTION_PROJECTIONS, n, d, 3 * d)  # to_q, to_k, to_v
    t.linear(ATTENTION_PROJECTIONS, text, d, 3 * d)  # add_q/k/v_proj
    t.attention(ATTENTION_SCORES, n + text, n + text, d)
    t.linear(ATTENTION_PROJECTIONS, n, d, d)  # to_out
    t.linear(ATTENTION_PROJECTIONS, text, d, d)  # to_add_out
    t.feed_forward(MLP, n, d, mlp)
    t.feed_forward(MLP, text, d, mlp)


def single_stream_block(t: Tally, d: int, mlp: int, seq: int) -> None:
    """One single-stream block: q/k/v and the MLP input, then one output over both."""
    t.linear(CONDITIONING, 1, d, 3 * d)  # norm (AdaLayerNormZeroSingle)
    t.linear(ATTENTION_PROJECTIONS, seq, d, 3 * d)  # to_q, to_k, to_v
    t.attention(ATTENTION_SCORES, seq, seq, d)
    t.linear(MLP, seq, d, mlp)  # proj_mlp
    # proj_out reads [attention, mlp]: its first d inputs are the attention's output
    # projection, the other mlp inputs the MLP's second layer.
    t.linear(ATTENTION_PROJECTIONS, seq, d, d)
    t.linear(MLP, seq, mlp, d)


def forward(config: Mapping[str, Any], grid: LatentGrid, text_tokens: int) -> ForwardFlops:
    """One transformer forward for one sample (text padded to ``text_tokens``)."""
    c = config
    d = c["num_attention_heads"] * c["attention_head_dim"]
    mlp = int(d * c["mlp_ratio"])
    n = video_tokens(c, grid)
    text = text_tokens
    patch = c["patch_size_t"] * c["patch_size"] ** 2

    t = Tally()
    t.conv(PATCH_EMBED_AND_HEAD, n, c["in_channels"], d, patch)  # x_embedder
    # context_embedder: a timestep + mean-text embedding, proj_in, then refiner blocks.
    t.embedder(CONDITIONING, TIMESTEP_CHANNELS, d)
    t.embedder(CONDITIONING, c["text_embed_dim"], d)
    t.linear(CONDITIONING, text, c["text_embed_dim"], d)
    for _ in range(c["num_refiner_layers"]):
        t.linear(CONDITIONING, text, d, 4 * d)  # q, k, v, out
        t.attention(CONDITIONING, text, text, d)
        t.linear(CONDITIONING, 1, d, 2 * d)  # norm_out (HunyuanVideoAdaNorm)
        t.feed_forward(CONDITIONING, text, d, mlp)
    # time_text_embed: timestep, pooled CLIP text, and the guidance scale.
    t.embedder(CONDITIONING, TIMESTEP_CHANNELS, d)
    t.embedder(CONDITIONING, c["pooled_projection_dim"], d)
    if c["guidance_embeds"]:
        t.embedder(CONDITIONING, TIMESTEP_CHANNELS, d)
    for _ in range(c["num_layers"]):
        dual_stream_block(t, d, mlp, n, text)
    for _ in range(c["num_single_layers"]):
        single_stream_block(t, d, mlp, n + text)
    t.linear(CONDITIONING, 1, d, 2 * d)  # norm_out
    t.linear(PATCH_EMBED_AND_HEAD, n, d, patch * c["out_channels"])
    return t.result(n)
