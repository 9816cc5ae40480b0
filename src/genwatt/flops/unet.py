"""Latent UNets: Stable Diffusion 1.5 and SDXL (``UNet2DConditionModel``), and
AnimateDiff (the same UNet merged with a motion adapter into ``UNetMotionModel``).

The walk follows ``UNet2DConditionModel.__init__`` block by block: ResNet blocks (two
3x3 convolutions, a 1x1 shortcut where the width changes, a per-sample projection of
the time embedding), spatial transformers (GroupNorm, proj_in, self-attention over the
pixels of one level, cross-attention to the 77 CLIP tokens, GEGLU MLP, proj_out),
stride-2 downsampling convolutions and nearest-upsample convolutions, with the skip
connections widening the up path. Odd latent sizes are handled as diffusers does:
downsampling rounds up, upsampling returns to the skip's size.

AnimateDiff runs every frame through the spatial layers as a batch entry (the pipeline
repeats the prompt embedding per frame, so cross-attention keys and values are computed
per frame too) and adds a motion module (temporal self-attention over the frames at
each pixel) after every ResNet/transformer pair and in the middle block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genwatt.flops.result import (
    ATTENTION_PROJECTIONS,
    ATTENTION_SCORES,
    CONDITIONING,
    CONV,
    CROSS_ATTENTION_PROJECTIONS,
    CROSS_ATTENTION_SCORES,
    MLP,
    OTHER,
    ForwardFlops,
)
from genwatt.flops.shapes import LatentGrid
from genwatt.flops.tally import Tally

ADD_TIME_IDS = 6  # SDXL's original size, crop corner and target size


def _per_level(value: int | list[int], levels: int) -> list[int]:
    return list(value) if isinstance(value, list | tuple) else [value] * levels


def resnet(t: Tally, pixels: int, rows: int, c_in: int, c_out: int, temb: int) -> None:
    """``ResnetBlock2D`` over ``rows`` images of ``pixels`` each."""
    t.conv(CONV, rows * pixels, c_in, c_out, 9)  # conv1
    t.linear(CONDITIONING, rows, temb, c_out)  # time_emb_proj
    t.conv(CONV, rows * pixels, c_out, c_out, 9)  # conv2
    if c_in != c_out:
        t.conv(CONV, rows * pixels, c_in, c_out, 1)  # conv_shortcut


def spatial_transformer(
    t: Tally, pixels: int, rows: int, width: int, layers: int, text: int, cross_dim: int
) -> None:
    """``Transformer2DModel``: proj_in and proj_out (1x1 conv or linear: the same
    FLOPs) around ``layers`` BasicTransformerBlocks."""
    tokens = rows * pixels
    t.linear(OTHER, tokens, width, width)  # proj_in
    for _ in range(layers):
        t.linear(ATTENTION_PROJECTIONS, tokens, width, 4 * width)  # attn1 q, k, v, out
        t.attention(ATTENTION_SCORES, tokens, pixels, width)  # per image: pixels^2
        t.linear(CROSS_ATTENTION_PROJECTIONS, tokens, width, 2 * width)  # attn2 q, out
        t.linear(CROSS_ATTENTION_PROJECTIONS, rows * text, cross_dim, 2 * width)  # k, v
        t.attention(CROSS_ATTENTION_SCORES, tokens, text, width)
        t.feed_forward(MLP, tokens, width, 4 * width, gated=True)  # GEGLU
    t.linear(OTHER, tokens, width, width)  # proj_out


def motion_module(t: Tally, pixels: int, frames: int, width: int, layers: int) -> None:
    """``AnimateDiffTransformer3D``: two self-attentions over the frames at each pixel."""
    tokens = pixels * frames
    t.linear(OTHER, tokens, width, width)  # proj_in
    for _ in range(layers):
        for _ in range(2):  # attn1 and attn2 (double_self_attention)
            t.linear(ATTENTION_PROJECTIONS, tokens, width, 4 * width)
            t.attention(ATTENTION_SCORES, tokens, frames, width)
        t.feed_forward(MLP, tokens, width, 4 * width, gated=True)
    t.linear(OTHER, tokens, width, width)  # proj_out


def forward(
    config: Mapping[str, Any],
    grid: LatentGrid,
    text_tokens: int,
    motion: Mapping[str, Any] | None = None,
) -> ForwardFlops:
    """One UNet forward for one sample: one image, or ``grid.frames`` frames with the
    ``motion`` adapter config (AnimateDiff)."""
    c = config
    channels = list(c["block_out_channels"])
    levels = len(channels)
    layers = c["layers_per_block"]
    temb = 4 * channels[0]
    cross_dim = c["cross_attention_dim"]
    t_layers = _per_level(c.get("transformer_layers_per_block", 1), levels)
    frames = grid.frames if motion is not None else 1
    rows = frames  # images the spatial layers see per sample

    sizes = [(grid.height, grid.width)]
    for _ in range(levels - 1):
        h, w = sizes[-1]
        sizes.append(((h + 1) // 2, (w + 1) // 2))
    pixels = [h * w for h, w in sizes]

    def motion_after(level: int) -> None:
        if motion is not None:
            layers_m = motion["motion_transformer_layers_per_block"]
            motion_module(t, pixels[level], frames, channels[level], layers_m)

    t = Tally()
    t.embedder(CONDITIONING, channels[0], temb)  # time_embedding (once per sample)
    if c.get("addition_embed_type") == "text_time":
        t.embedder(CONDITIONING, c["projection_class_embeddings_input_dim"], temb)
    t.conv(CONV, rows * pixels[0], c["in_channels"], channels[0], 9)  # conv_in

    skips = [channels[0]]
    for i, kind in enumerate(c["down_block_types"]):
        c_in = channels[max(i - 1, 0)]
        c_out = channels[i]
        for j in range(layers):
            resnet(t, pixels[i], rows, c_in if j == 0 else c_out, c_out, temb)
            if "CrossAttn" in kind:
                spatial_transformer(t, pixels[i], rows, c_out, t_layers[i], text_tokens, cross_dim)
            motion_after(i)
            skips.append(c_out)
        if i < levels - 1:
            t.conv(CONV, rows * pixels[i + 1], c_out, c_out, 9)  # downsampler, stride 2
            skips.append(c_out)

    mid = channels[-1]
    resnet(t, pixels[-1], rows, mid, mid, temb)
    spatial_transformer(t, pixels[-1], rows, mid, t_layers[-1], text_tokens, cross_dim)
    if motion is not None and motion.get("use_motion_mid_block", False):
        layers_m = motion["motion_transformer_layers_per_mid_block"]
        motion_module(t, pixels[-1], frames, mid, layers_m)
    resnet(t, pixels[-1], rows, mid, mid, temb)

    reversed_t_layers = t_layers[::-1]
    prev = channels[-1]
    for i, kind in enumerate(c["up_block_types"]):
        level = levels - 1 - i
        c_out = channels[level]
        for j in range(layers + 1):
            skip = skips.pop()
            resnet(t, pixels[level], rows, (prev if j == 0 else c_out) + skip, c_out, temb)
            if "CrossAttn" in kind:
                spatial_transformer(
                    t, pixels[level], rows, c_out, reversed_t_layers[i], text_tokens, cross_dim
                )
            motion_after(level)
        if level > 0:
            t.conv(CONV, rows * pixels[level - 1], c_out, c_out, 9)  # upsampler conv
        prev = c_out

    t.conv(CONV, rows * pixels[0], channels[0], c["out_channels"], 9)  # conv_out
    return t.result(rows * pixels[0])
