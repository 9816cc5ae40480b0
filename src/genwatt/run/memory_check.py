"""Whether a configuration can fit in a device's memory, judged before anything is built.

Why a lower bound: a request for 100000x100000 pixels used to be accepted and allocate
gigabytes before failing deep inside torch. The exact peak memory of a pipeline depends
on kernels and allocator, but some tensors must exist at once whatever the backend: the
latent, one hidden state of the denoiser (tokens x width), the decoded video (frames x
height x width x 3) and the VAE decoder's activations for one frame at full resolution
(height x width x its first channel count; genwatt runs the decoder without tiling, and
some VAEs decode a few frames at a time, so one frame is all that is sure). The largest
of these is a floor on what a run needs. A plan is refused only when that floor is more
than twice the device's memory, so an estimate that is off by some margin never refuses
a run that would have worked; a floor above half the memory is noted as borderline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from genwatt.flops.generation import denoiser_forward
from genwatt.flops.shapes import latent_grid
from genwatt.models.params import ResolvedParams
from genwatt.models.spec import ModelSpec

REFUSE_FACTOR = 2.0  # refuse when the floor is above this many times the memory
BORDERLINE_FACTOR = 0.5  # note when the floor is above this share of the memory
_DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


@dataclass(frozen=True)
class MemoryNeed:
    """The least memory a generation needs (bytes), and the tensor that sets it."""

    bytes: float
    what: str


def bytes_text(n: float) -> str:
    """Bytes in binary units, the way GPU memory is quoted: ``24 GiB``, ``3.1 TiB``."""
    for unit, scale in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= scale:
            value = n / scale
            return f"{value:.3g} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{n / 2**10:.3g} KiB"


def _dtype_bytes(dtype: str | None, model: ModelSpec, role: str) -> int:
    if dtype is None:
        for comp in model.components:
            if comp.role == role and comp.torch_dtype:
                dtype = comp.torch_dtype
                break
    return _DTYPE_BYTES.get(dtype or model.torch_dtype, 2)


def _first(config: Any, *keys: str) -> int | None:
    for key in keys:
        value = config.get(key)
        if isinstance(value, (list, tuple)) and value:
            value = value[0]
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _denoiser_width(model: ModelSpec) -> int:
    config = model.denoiser.config
    heads, head_dim = config.get("num_attention_heads"), config.get("attention_head_dim")
    if isinstance(heads, int) and isinstance(head_dim, int):
        return heads * head_dim
    return _first(config, "block_out_channels", "hidden_size") or 1


def _vae_channels(model: ModelSpec) -> int:
    vae = next((c for c in model.components if c.role == "vae"), None)
    if vae is None:
        return 3
    found = _first(vae.config, "block_out_channels", "decoder_block_out_channels", "base_dim")
    return found or 3  # no feature maps known: at least the decoded RGB frame


def memory_need(model: ModelSpec, params: ResolvedParams, dtype: str | None) -> MemoryNeed | None:
    """The floor on memory one call of ``model`` with ``params`` (``params.batch_size``
    outputs) needs; None for text."""
    if model.task == "text":
        return None
    batch_size = params.batch_size
    grid = latent_grid(model, params)
    latent = 4.0 * batch_size * grid.channels * grid.frames * grid.height * grid.width
    passes = params.denoiser_passes_per_step if model.cfg_batched else 1
    tokens = denoiser_forward(model, params).tokens
    hidden = (
        float(tokens)
        * _denoiser_width(model)
        * batch_size
        * passes
        * _dtype_bytes(dtype, model, "denoiser")
    )
    pixels = float(params.height or 0) * (params.width or 0)
    vae_bytes = batch_size * _dtype_bytes(dtype, model, "vae")
    video = pixels * (params.num_frames or 1) * 3 * vae_bytes
    frame_maps = pixels * _vae_channels(model) * vae_bytes
    return max(
        MemoryNeed(latent, "the latent"),
        MemoryNeed(hidden, "one hidden state of the denoiser"),
        MemoryNeed(video, "the decoded video"),
        MemoryNeed(frame_maps, "the VAE decoder's activations for one frame"),
        key=lambda need: need.bytes,
    )


def fit_verdict(need: MemoryNeed, memory_bytes: float) -> str | None:
    """``"refuse"``, ``"borderline"`` or None (fits), by the factors above."""
    if not math.isfinite(need.bytes) or need.bytes > REFUSE_FACTOR * memory_bytes:
        return "refuse"
    if need.bytes > BORDERLINE_FACTOR * memory_bytes:
        return "borderline"
    return None
