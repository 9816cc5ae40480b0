"""The inputs each component gets from its pipeline, as meta tensors: one call.

Shapes, dtypes, CFG batching and masks follow the installed diffusers pipelines
(``WanPipeline.__call__``, ``FluxPipeline._pack_latents``, AnimateDiff's per-frame
prompt repeat, ...), built from the same ``shapes`` helpers as the closed forms. Two
things meta tensors cannot do are worked around here, without changing what is
computed: Mochi's attention reads its text mask's values (they stay on the CPU for
it), and Mochi's rotary table is built under an autocast that meta does not support.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from genwatt.errors import ConfigError
from genwatt.flops.mochi import valid_text_tokens
from genwatt.flops.shapes import context_tokens, encoder_tokens, latent_grid, vae_factors
from genwatt.models.components import resolve_dtype
from genwatt.models.params import ResolvedParams
from genwatt.models.spec import ComponentSpec, ModelSpec

if TYPE_CHECKING:
    from torch import nn

META = torch.device("meta")
Call = Callable[[], Any]
LTX_FRAME_RATE = 25  # LTXPipeline's default frame_rate, which scales its rotary positions


def _dtype(spec: ModelSpec, comp: ComponentSpec) -> torch.dtype:
    if spec.is_tiny:
        return torch.float32
    dtype = resolve_dtype(comp.torch_dtype or spec.torch_dtype)
    assert dtype is not None
    return dtype


def _empty(*shape: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.empty(*shape, dtype=dtype, device=META)


def token_ids(batch: int, tokens: int) -> torch.Tensor:
    return torch.zeros(batch, tokens, dtype=torch.long, device=META)


def denoiser_batch(spec: ModelSpec, params: ResolvedParams, batch_size: int) -> int:
    """Samples in one denoiser call: CFG doubles the batch where the pipeline batches it."""
    cfg = params.denoiser_passes_per_step == 2
    return batch_size * (2 if cfg and spec.cfg_batched else 1)


def _mochi_mask(spec: ModelSpec, params: ResolvedParams, batch_size: int) -> torch.Tensor:
    """Mochi drops padding text tokens from its attention per sample, so the mask must
    carry real values: it stays on the CPU (index tensors may live there). Batched CFG
    puts the negative prompts first."""
    tokens = params.max_text_tokens
    rows = []
    if params.denoiser_passes_per_step == 2:
        rows += [valid_text_tokens(params, negative=True)] * batch_size
    rows += [valid_text_tokens(params, negative=False)] * batch_size
    mask = torch.zeros(len(rows), tokens, dtype=torch.long)
    for i, valid in enumerate(rows):
        mask[i, :valid] = 1
    return mask


class _CpuMaskProcessor:
    """Hands Mochi's attention processor the mask's real values (its ``nonzero`` needs
    data), while the rest of the model, the text pooler included, gets the meta copy."""

    def __init__(self, inner: Any, mask: torch.Tensor) -> None:
        self.inner, self.mask = inner, mask

    def __call__(self, attn: Any, *args: Any, attention_mask: Any = None, **kwargs: Any) -> Any:
        return self.inner(attn, *args, attention_mask=self.mask, **kwargs)


def _mochi_rope_without_autocast(freqs: torch.Tensor, pos: torch.Tensor) -> Any:
    """``MochiRoPE._create_rope`` minus its ``torch.autocast(device_type)``, which meta
    does not support; the einsum it counts is the same."""
    angles = torch.einsum("nd,dhf->nhf", pos.to(torch.float32), freqs.to(torch.float32))
    return torch.cos(angles), torch.sin(angles)


def _with_cpu_mask(module: nn.Module, mask: torch.Tensor, call: Call) -> Any:
    """Run ``call`` with every attention processor reading the CPU mask."""
    module.rope._create_rope = _mochi_rope_without_autocast
    blocks = [b.attn1 for b in module.transformer_blocks]
    originals = [a.processor for a in blocks]
    try:
        for attn, processor in zip(blocks, originals, strict=True):
            attn.processor = _CpuMaskProcessor(processor, mask)
        return call()
    finally:
        for attn, processor in zip(blocks, originals, strict=True):
            attn.processor = processor


def denoiser_call(
    spec: ModelSpec, params: ResolvedParams, module: nn.Module, batch_size: int
) -> Call:
    """One denoiser call of a step (both CFG halves where the pipeline batches them)."""
    comp = spec.denoiser
    dt = _dtype(spec, comp)
    b = denoiser_batch(spec, params, batch_size)
    g = latent_grid(spec, params)
    text = context_tokens(spec, params)
    c = comp.config
    ts = torch.zeros(b, device=META)
    name = type(module).__name__

    if name == "WanTransformer3DModel":
        x = _empty(b, g.channels, g.frames, g.height, g.width, dtype=dt)
        ehs = _empty(b, text, c["text_dim"], dtype=dt)
        return lambda: module(x, ts, ehs, return_dict=False)
    if name == "CogVideoXTransformer3DModel":
        x = _empty(b, g.frames, g.channels, g.height, g.width, dtype=dt)
        ehs = _empty(b, text, c["text_embed_dim"], dtype=dt)
        rope = None
        if c["use_rotary_positional_embeddings"]:
            n = g.frames * (g.height // c["patch_size"]) * (g.width // c["patch_size"])
            rope = (_empty(n, c["attention_head_dim"], dtype=dt),) * 2
        return lambda: module(x, ehs, ts, image_rotary_emb=rope, return_dict=False)
    if name == "MochiTransformer3DModel":
        x = _empty(b, g.channels, g.frames, g.height, g.width, dtype=dt)
        ehs = _empty(b, text, c["text_embed_dim"], dtype=dt)
        mask = _mochi_mask(spec, params, batch_size)
        return lambda: _with_cpu_mask(module, mask, lambda: module(x, ehs, ts, mask.to(META)))
    if name == "LTXVideoTransformer3DModel":
        x = _empty(b, g.frames * g.height * g.width, g.channels, dtype=dt)
        ehs = _empty(b, text, c["caption_channels"], dtype=dt)
        mask = torch.ones(b, text, dtype=torch.long, device=META)
        spatial, temporal = vae_factors(spec.component("vae"))
        kwargs = {
            "num_frames": g.frames,
            "height": g.height,
            "width": g.width,
            "rope_interpolation_scale": (temporal / LTX_FRAME_RATE, spatial, spatial),
        }
        return lambda: module(x, ehs, ts, mask, return_dict=False, **kwargs)
    if name == "HunyuanVideoTransformer3DModel":
        x = _empty(b, g.channels, g.frames, g.height, g.width, dtype=dt)
        ehs = _empty(b, text, c["text_embed_dim"], dtype=dt)
        mask = torch.ones(b, text, dtype=torch.long, device=META)
        pooled = _empty(b, c["pooled_projection_dim"], dtype=dt)
        guidance = torch.zeros(b, device=META) if c["guidance_embeds"] else None
        return lambda: module(x, ts, ehs, mask, pooled, guidance=guidance, return_dict=False)
    if name == "SD3Transformer2DModel":
        x = _empty(b, g.channels, g.height, g.width, dtype=dt)
        ehs = _empty(b, text, c["joint_attention_dim"], dtype=dt)
        pooled = _empty(b, c["pooled_projection_dim"], dtype=dt)
        return lambda: module(x, ehs, pooled, ts, return_dict=False)
    if name == "FluxTransformer2DModel":
        n = (g.height // 2) * (g.width // 2)
        x = _empty(b, n, c["in_channels"], dtype=dt)
        ehs = _empty(b, text, c["joint_attention_dim"], dtype=dt)
        pooled = _empty(b, c["pooled_projection_dim"], dtype=dt)
        guidance = torch.zeros(b, device=META) if c["guidance_embeds"] else None
        txt_ids, img_ids = _empty(text, 3, dtype=dt), _empty(n, 3, dtype=dt)
        return lambda: module(x, ehs, pooled, ts, img_ids, txt_ids, guidance, return_dict=False)
    if name == "UNet2DConditionModel":
        x = _empty(b, g.channels, g.height, g.width, dtype=dt)
        ehs = _empty(b, text, c["cross_attention_dim"], dtype=dt)
        added = None
        if c.get("addition_embed_type") == "text_time":
            time_ids = 6 * c["addition_time_embed_dim"]
            pooled = c["projection_class_embeddings_input_dim"] - time_ids
            added = {"text_embeds": _empty(b, pooled, dtype=dt), "time_ids": _empty(b, 6, dtype=dt)}
        return lambda: module(x, ts, ehs, added_cond_kwargs=added, return_dict=False)
    if name == "UNetMotionModel":
        # AnimateDiffPipeline repeats the prompt embedding once per frame.
        x = _empty(b, g.channels, g.frames, g.height, g.width, dtype=dt)
        ehs = _empty(b * g.frames, text, c["cross_attention_dim"], dtype=dt)
        return lambda: module(x, ts, ehs, return_dict=False)
    raise ConfigError(f"genwatt.flops cannot call the denoiser {name} on meta.")


def text_encoder_call(
    spec: ModelSpec, params: ResolvedParams, comp: ComponentSpec, module: nn.Module, batch: int
) -> Call:
    """One encoder call on ``batch`` prompts padded to the pipeline's length."""
    # No attention mask: it only hides padding (the cost is the padded length's), and
    # transformers inspects its values, which a meta tensor does not have.
    ids = token_ids(batch, encoder_tokens(spec, params, comp))
    if comp.class_name.startswith("CLIP") or comp.class_name == "LlamaModel":
        return lambda: module(ids, output_hidden_states=True)
    return lambda: module(ids)


def vae_call(
    spec: ModelSpec, params: ResolvedParams, comp: ComponentSpec, module: nn.Module, batch: int
) -> Call:
    """``vae.decode`` of ``batch`` latents as the pipeline calls it."""
    g = latent_grid(spec, params)
    dt = _dtype(spec, comp)
    if spec.task == "t2i":
        z = _empty(batch, g.channels, g.height, g.width, dtype=dt)
    elif comp.class_name == "AutoencoderKL":
        # AnimateDiff decodes every frame as an image (in chunks of 16: same FLOPs).
        z = _empty(batch * g.frames, g.channels, g.height, g.width, dtype=dt)
    else:
        z = _empty(batch, g.channels, g.frames, g.height, g.width, dtype=dt)
    return lambda: module.decode(z, return_dict=False)


def lm_prefill_call(module: nn.Module, batch: int, tokens: int) -> Call:
    """``generate``'s first forward: the whole prompt, logits for the last position only."""
    ids = token_ids(batch, tokens)
    return lambda: module(ids, logits_to_keep=1, use_cache=True)
