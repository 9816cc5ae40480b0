"""VAE decoders, counted convolution by convolution from the VAE's config.

Decoding is nearly all convolutions at full output resolution, so its cost grows with
pixels (and frames), not with tokens squared; the exception is the attention in some
mid blocks, quadratic in the latent pixels of one frame (of a whole temporal tile for
HunyuanVideo). Pointwise linears (Mochi's) count as convolutions. Video VAEs are
causal in time (a frame only sees the past), pad with replicated frames, and several
decode a few latent frames at a time with caches: the walks below follow each
decoder's own loop so that the frame counts, and hence the FLOPs, are the ones it runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from genwatt.errors import ConfigError
from genwatt.flops.result import ATTENTION_PROJECTIONS, ATTENTION_SCORES, CONV, ForwardFlops
from genwatt.flops.shapes import LatentGrid
from genwatt.flops.tally import Tally


def _resnet(t: Tally, positions: float, c_in: int, c_out: int, kernel: int) -> None:
    """A ResNet block: two convolutions, a 1x1 shortcut where the width changes."""
    t.conv(CONV, positions, c_in, c_out, kernel)
    t.conv(CONV, positions, c_out, c_out, kernel)
    if c_in != c_out:
        t.conv(CONV, positions, c_in, c_out, 1)


def _single_head_attention(t: Tally, images: int, pixels: int, width: int) -> None:
    """A mid-block attention over the pixels of each image (or frame)."""
    t.linear(ATTENTION_PROJECTIONS, images * pixels, width, 4 * width)
    t.attention(ATTENTION_SCORES, images * pixels, pixels, width)


def image_decoder(config: Mapping[str, Any], grid: LatentGrid, images: int = 1) -> ForwardFlops:
    """``AutoencoderKL.decode`` (SD 1.5, SDXL, SD3, FLUX; AnimateDiff per frame)."""
    c = config
    channels = list(c["block_out_channels"])[::-1]
    latent = c["latent_channels"]
    layers = c["layers_per_block"]
    h, w = grid.height, grid.width
    t = Tally()
    if c.get("use_post_quant_conv", True):
        t.conv(CONV, images * h * w, latent, latent, 1)
    t.conv(CONV, images * h * w, latent, channels[0], 9)  # conv_in
    _resnet(t, images * h * w, channels[0], channels[0], 9)
    if c.get("mid_block_add_attention", True):
        _single_head_attention(t, images, h * w, channels[0])
    _resnet(t, images * h * w, channels[0], channels[0], 9)
    prev = channels[0]
    for i, c_out in enumerate(channels):
        for j in range(layers + 1):
            _resnet(t, images * h * w, prev if j == 0 else c_out, c_out, 9)
        prev = c_out
        if i < len(channels) - 1:
            h, w = 2 * h, 2 * w
            t.conv(CONV, images * h * w, c_out, c_out, 9)  # upsampler
    t.conv(CONV, images * h * w, channels[-1], c["out_channels"], 9)  # conv_out
    return t.result(images * grid.height * grid.width)


def _wan_chunk(t: Tally, c: Mapping[str, Any], h: int, w: int, first: bool) -> None:
    """``WanDecoder3d`` on one latent frame. Its causal convolutions read two cached
    frames, so each outputs exactly the frames it is given; the temporal upsamplers
    skip the first chunk ("Rep") and double the frames of every later one."""
    base, mult = c["base_dim"], list(c["dim_mult"])
    dims = [base * m for m in [mult[-1], *mult[::-1]]]
    up_time = list(c["temperal_downsample"])[::-1]
    f = 1
    t.conv(CONV, f * h * w, c["z_dim"], dims[0], 27)  # conv_in
    _resnet(t, f * h * w, dims[0], dims[0], 27)
    t.linear(ATTENTION_PROJECTIONS, f * h * w, dims[0], 4 * dims[0])  # to_qkv, proj
    t.attention(ATTENTION_SCORES, f * h * w, h * w, dims[0])
    _resnet(t, f * h * w, dims[0], dims[0], 27)
    for i, (wide, d_out) in enumerate(itertools.pairwise(dims)):
        d_in = wide // 2 if i > 0 else wide  # later blocks read the upsampler's halved width
        for j in range(c["num_res_blocks"] + 1):
            _resnet(t, f * h * w, d_in if j == 0 else d_out, d_out, 27)
        if i == len(mult) - 1:
            break
        if up_time[i] and not first:
            t.conv(CONV, f * h * w, d_out, 2 * d_out, 3)  # time_conv, (3, 1, 1)
            f *= 2
        h, w = 2 * h, 2 * w
        t.conv(CONV, f * h * w, d_out, d_out // 2, 9)  # resample: upsample + 2D conv
    t.conv(CONV, f * h * w, dims[-1], 3, 27)  # conv_out


def wan_decoder(config: Mapping[str, Any], grid: LatentGrid) -> ForwardFlops:
    """``AutoencoderKLWan.decode``: a 1x1x1 post-quant conv, then the decoder one latent
    frame at a time (the first chunk decodes to 1 frame, every later one to 4)."""
    c = config
    hw = grid.height * grid.width
    t = Tally()
    t.conv(CONV, grid.frames * hw, c["z_dim"], c["z_dim"], 1)  # post_quant_conv
    first, rest = Tally(), Tally()
    _wan_chunk(first, c, grid.height, grid.width, first=True)
    _wan_chunk(rest, c, grid.height, grid.width, first=False)
    t.merge(first)
    t.merge(rest, grid.frames - 1)
    return t.result(grid.frames * hw)


def _time_upsampled(frames: int) -> int:
    """CogVideoX's compress_time upsampling: the first of an odd count stays single."""
    if frames == 1:
        return 1
    return 2 * frames - 1 if frames % 2 else 2 * frames


def _cogvideox_batch(t: Tally, c: Mapping[str, Any], f: int, h: int, w: int) -> None:
    """``CogVideoXDecoder3D`` on ``f`` latent frames. Every norm is a spatial norm: two
    1x1x1 convolutions of the latent (interpolated to the feature's size)."""
    latent = c["latent_channels"]
    channels = list(c["block_out_channels"])[::-1]
    compress_levels = int(c["temporal_compression_ratio"]).bit_length() - 1

    def resnet(c_in: int, c_out: int) -> None:
        t.conv(CONV, f * h * w, latent, 2 * c_in, 1)  # norm1: conv_y, conv_b
        t.conv(CONV, f * h * w, c_in, c_out, 27)
        t.conv(CONV, f * h * w, latent, 2 * c_out, 1)  # norm2
        t.conv(CONV, f * h * w, c_out, c_out, 27)
        if c_in != c_out:
            t.conv(CONV, f * h * w, c_in, c_out, 1)

    t.conv(CONV, f * h * w, latent, channels[0], 27)  # conv_in
    for _ in range(2):
        resnet(channels[0], channels[0])  # mid block
    prev = channels[0]
    for i, c_out in enumerate(channels):
        for j in range(c["layers_per_block"] + 1):
            resnet(prev if j == 0 else c_out, c_out)
        prev = c_out
        if i < len(channels) - 1:
            if i < compress_levels:
                f = _time_upsampled(f)
            h, w = 2 * h, 2 * w
            t.conv(CONV, f * h * w, c_out, c_out, 9)  # upsampler: 2D conv per frame
    t.conv(CONV, f * h * w, latent, 2 * channels[-1], 1)  # norm_out
    t.conv(CONV, f * h * w, channels[-1], c["out_channels"], 27)  # conv_out


def cogvideox_decoder(config: Mapping[str, Any], grid: LatentGrid) -> ForwardFlops:
    """``AutoencoderKLCogVideoX.decode``: latent frames two at a time (the first batch
    takes the odd one left over), with conv caches between batches."""
    latent_frames = grid.frames
    batch = 2  # num_latent_frames_batch_size
    batches = max(latent_frames // batch, 1)
    first = min(batch + latent_frames % batch, latent_frames)
    t = Tally()
    if config.get("use_post_quant_conv", False):
        hw = grid.height * grid.width
        t.conv(CONV, latent_frames * hw, config["latent_channels"], config["latent_channels"], 1)
    _cogvideox_batch(t, config, first, grid.height, grid.width)
    rest = Tally()
    _cogvideox_batch(rest, config, batch, grid.height, grid.width)
    t.merge(rest, batches - 1)
    return t.result(latent_frames * grid.height * grid.width)


# AutoencoderKLHunyuanVideo decodes long videos in temporal tiles (its framewise
# decoding is on by default): tiles of 16 frames, one every 12 (in output frames).
HUNYUAN_TILE_FRAMES = 16
HUNYUAN_TILE_STRIDE_FRAMES = 12


def _hunyuan_tile(t: Tally, c: Mapping[str, Any], f: int, h: int, w: int) -> None:
    """``HunyuanVideoDecoder3D`` on ``f`` latent frames: causal 3x3x3 convolutions
    (replicate padding, one output frame per input frame), a mid-block attention over
    every pixel of every frame at once, and upsamplers that keep the first frame single."""
    latent = c["latent_channels"]
    channels = list(c["block_out_channels"])[::-1]
    spatial_ups = int(c["spatial_compression_ratio"]).bit_length() - 1
    time_ups = int(c["temporal_compression_ratio"]).bit_length() - 1
    t.conv(CONV, f * h * w, latent, latent, 1)  # post_quant_conv
    t.conv(CONV, f * h * w, latent, channels[0], 27)  # conv_in
    _resnet(t, f * h * w, channels[0], channels[0], 27)
    if c.get("mid_block_add_attention", True):
        t.linear(ATTENTION_PROJECTIONS, f * h * w, channels[0], 4 * channels[0])
        t.attention(ATTENTION_SCORES, f * h * w, f * h * w, channels[0])
    _resnet(t, f * h * w, channels[0], channels[0], 27)
    prev = channels[0]
    last = len(channels) - 1
    for i, c_out in enumerate(channels):
        for j in range(c["layers_per_block"] + 1):
            _resnet(t, f * h * w, prev if j == 0 else c_out, c_out, 27)
        prev = c_out
        up_space = i < spatial_ups
        up_time = last - time_ups <= i < last
        if up_space or up_time:
            f = 2 * f - 1 if up_time else f
            h, w = (2 * h, 2 * w) if up_space else (h, w)
            t.conv(CONV, f * h * w, c_out, c_out, 27)
    t.conv(CONV, f * h * w, channels[-1], c["out_channels"], 27)  # conv_out


def hunyuan_decoder(config: Mapping[str, Any], grid: LatentGrid) -> ForwardFlops:
    """``AutoencoderKLHunyuanVideo.decode``: whole if it has at most 4 latent frames,
    else in overlapping temporal tiles of 5, each decoded from scratch."""
    frames = grid.frames
    ratio = config["temporal_compression_ratio"]
    tile, stride = HUNYUAN_TILE_FRAMES // ratio, HUNYUAN_TILE_STRIDE_FRAMES // ratio
    # Whole if short enough, else tiles of tile + 1 latent frames (the last may be short).
    tiles = (
        [frames]
        if frames <= tile
        else [min(tile + 1, frames - i) for i in range(0, frames, stride)]
    )
    t = Tally()
    for f in tiles:
        _hunyuan_tile(t, config, f, grid.height, grid.width)
    return t.result(frames * grid.height * grid.width)


def ltx_decoder(config: Mapping[str, Any], grid: LatentGrid) -> ForwardFlops:
    """``AutoencoderKLLTXVideo.decode``: 3x3x3 convolutions with replicate padding (one
    output frame per input frame), upsamplers that convolve to 8x the channels and then
    rearrange them into 2x time, height and width (dropping the first frame), and a final
    convolution to the 4x4 pixel patches."""
    c = config
    channels = list(c["decoder_block_out_channels"])[::-1]
    scaling = list(c["decoder_spatio_temporal_scaling"])[::-1]
    layers = list(c["decoder_layers_per_block"])[::-1]
    factors = list(c["upsample_factor"])[::-1]
    f, h, w = grid.frames, grid.height, grid.width
    t = Tally()
    t.conv(CONV, f * h * w, c["latent_channels"], channels[0], 27)  # conv_in
    for _ in range(layers[0]):
        _resnet(t, f * h * w, channels[0], channels[0], 27)  # mid block
    out = channels[0]
    for i, block in enumerate(channels):
        c_in, out = out // factors[i], block // factors[i]
        if c_in != out:
            _resnet(t, f * h * w, c_in, out, 27)  # the block's conv_in
        if scaling[i]:
            t.conv(CONV, f * h * w, out * factors[i], out * 8, 27)  # upsampler conv
            f, h, w = 2 * f - 1, 2 * h, 2 * w
        for _ in range(layers[i + 1]):
            _resnet(t, f * h * w, out, out, 27)
    out_channels = c["out_channels"] * c["patch_size"] ** 2
    t.conv(CONV, f * h * w, out, out_channels, 27)  # conv_out
    return t.result(grid.frames * grid.height * grid.width)


def mochi_decoder(config: Mapping[str, Any], grid: LatentGrid) -> ForwardFlops:
    """``AutoencoderKLMochi.decode``: the whole video at once; ResNet stacks of 3x3x3
    convolutions, each up block ending in a linear that makes the 6x time and 2x space
    expansion out of channels (the first 5 frames decoded are dropped afterwards)."""
    c = config
    channels = list(c["decoder_block_out_channels"])
    layers = list(c["layers_per_block"])
    t_exp, s_exp = list(c["temporal_expansions"]), list(c["spatial_expansions"])
    f, h, w = grid.frames, grid.height, grid.width
    t = Tally()
    t.conv(CONV, f * h * w, c["latent_channels"], channels[-1], 1)  # conv_in
    for _ in range(layers[-1]):
        _resnet(t, f * h * w, channels[-1], channels[-1], 27)  # block_in
    for i in range(len(channels) - 1):
        c_in, c_out = channels[-i - 1], channels[-i - 2]
        te, se = t_exp[-i - 1], s_exp[-i - 1]
        for _ in range(layers[-i - 2]):
            _resnet(t, f * h * w, c_in, c_in, 27)
        t.linear(CONV, f * h * w, c_in, c_out * te * se * se)  # proj: depth to space-time
        f, h, w = f * te, h * se, w * se
    for _ in range(layers[0]):
        _resnet(t, f * h * w, channels[0], channels[0], 27)  # block_out
    t.linear(CONV, f * h * w, channels[0], c["out_channels"])  # proj_out
    return t.result(grid.frames * grid.height * grid.width)


def patch_codec_decoder(grid: LatentGrid) -> ForwardFlops:
    """``PatchCodec.decode`` (wan-reference): ``pixel_shuffle`` and a clamp, a reshape
    with no product in it, so zero FLOPs; its cost is memory traffic only."""
    return ForwardFlops(0.0, {}, grid.frames * grid.height * grid.width)


def decoder_forward(
    class_name: str, config: Mapping[str, Any], grid: LatentGrid, *, frames_as_images: bool = False
) -> ForwardFlops:
    """One decode of one latent. ``frames_as_images``: a 2D VAE decoding every frame of
    a video (AnimateDiff)."""
    if class_name == "AutoencoderKL":
        return image_decoder(config, grid, grid.frames if frames_as_images else 1)
    if class_name == "AutoencoderKLWan":
        return wan_decoder(config, grid)
    if class_name == "AutoencoderKLCogVideoX":
        return cogvideox_decoder(config, grid)
    if class_name == "AutoencoderKLHunyuanVideo":
        return hunyuan_decoder(config, grid)
    if class_name == "AutoencoderKLLTXVideo":
        return ltx_decoder(config, grid)
    if class_name == "AutoencoderKLMochi":
        return mochi_decoder(config, grid)
    if class_name == "PatchCodec":
        return patch_codec_decoder(grid)
    raise ConfigError(f"genwatt.flops has no formula for the VAE {class_name}.")
