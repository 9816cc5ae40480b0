"""The cross-check: build the real module on ``torch.device("meta")`` and count its FLOPs.

``torch.utils.flop_counter.FlopCounterMode`` counts matrix products and convolutions
(``mm``, ``addmm``, ``bmm``, ``baddbmm``, ``convolution`` and the fused attention
kernels) at 2 FLOPs per multiply-accumulate, and nothing else: norms, activations,
softmax, rotary embeddings and residual adds are free to it. On meta, scaled-dot-product
attention decomposes into its two batched products, so attention is counted; on a CPU
it counts zero unless run under ``sdpa_kernel([SDPBackend.MATH])``.

Meta tensors have shapes but no data, so a 14B transformer at 720p is "run" in about a
second and allocates nothing. Each component is called with the inputs its pipeline
gives it (``meta_inputs``). This module and ``meta_inputs`` are the only ones of
``genwatt.flops`` that import torch.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import torch
from torch.utils.flop_counter import FlopCounterMode

from genwatt.errors import ConfigError
from genwatt.flops.generation import check_call
from genwatt.flops.meta_inputs import (
    META,
    Call,
    denoiser_call,
    lm_prefill_call,
    text_encoder_call,
    token_ids,
    vae_call,
)
from genwatt.models.build import build_component
from genwatt.models.params import ResolvedParams
from genwatt.models.spec import ModelSpec

if TYPE_CHECKING:
    from torch import nn


@lru_cache(maxsize=12)
def _module(spec: ModelSpec, component: str) -> nn.Module:
    """A meta-device build, cached: counting several configs of one model builds it once."""
    if spec.component(component).class_name == "UNet2DConditionModel" and any(
        c.role == "adapter" for c in spec.components
    ):
        return _motion_unet(spec, component)
    return build_component(spec, component, "tiny" if spec.is_tiny else "random", META)


def _motion_unet(spec: ModelSpec, component: str) -> nn.Module:
    """AnimateDiffPipeline merges the image UNet and the motion adapter into one
    ``UNetMotionModel``; on meta there are no weights to copy, so only the layout is built."""
    from diffusers import UNetMotionModel

    weights = "tiny" if spec.is_tiny else "random"
    unet = build_component(spec, component, weights, META)
    adapter_name = next(c.name for c in spec.components if c.role == "adapter")
    adapter = build_component(spec, adapter_name, weights, META)
    with torch.device(META):
        merged = UNetMotionModel.from_unet2d(unet, adapter, load_weights=False)
    # torch's own ``to``: diffusers' override warns about fp32 modules it has none of.
    torch.nn.Module.to(merged, unet.dtype)
    return merged.eval().requires_grad_(False)


def _call(spec: ModelSpec, params: ResolvedParams, component: str, batch_size: int | None) -> Call:
    batch_size = check_call(spec, params, batch_size)
    comp = spec.component(component)
    if comp.role == "adapter":
        raise ConfigError(
            f"{spec.name}'s {component} runs inside the merged denoiser; count "
            f"{spec.denoiser.name!r} instead."
        )
    module = _module(spec, component)
    if comp.role == "denoiser":
        return denoiser_call(spec, params, module, batch_size)
    if comp.role == "text_encoder":
        return text_encoder_call(spec, params, comp, module, batch_size)
    if comp.role == "vae":
        return vae_call(spec, params, comp, module, batch_size)
    return lm_prefill_call(module, batch_size, params.max_text_tokens)


class _TotalOnly:
    """Stands in for FlopCounterMode's module tracker when only the total is wanted.

    The tracker hooks every module call to attribute each FLOP to its parent modules,
    which a meta count pays for on thousands of calls; without it every operation is
    still counted, by the same formulas, under "Global".
    """

    parents = frozenset({"Global"})

    def __enter__(self) -> _TotalOnly:
        return self

    def __exit__(self, *args: object) -> None:
        return None


def count(call: Call) -> float:
    """FLOPs of ``call()`` as FlopCounterMode counts them (no grad, meta tensors)."""
    counter = FlopCounterMode(display=False)
    if hasattr(counter, "mod_tracker"):
        counter.mod_tracker = _TotalOnly()
    with counter, torch.no_grad():
        call()
    return float(counter.get_total_flops())


def count_on_meta(
    spec: ModelSpec, params: ResolvedParams, component: str, *, batch_size: int | None = None
) -> float:
    """FLOPs of one call of ``component`` as the pipeline makes it, counted on meta
    (``batch_size`` defaults to ``params.batch_size``).

    A denoiser call under batched CFG carries ``2 * batch_size`` samples (WAN's
    unbatched CFG makes two calls of ``batch_size``); a text encoder call encodes
    ``batch_size`` prompts; a VAE call decodes ``batch_size`` latents; a language
    model call is the prefill of ``batch_size`` prompts of ``max_text_tokens``.
    """
    return count(_call(spec, params, component, batch_size))


def count_by_module(
    spec: ModelSpec,
    params: ResolvedParams,
    component: str,
    *,
    batch_size: int | None = None,
    depth: int = 3,
) -> dict[str, float]:
    """Like ``count_on_meta``, split by submodule (to find where two counts part)."""
    call = _call(spec, params, component, batch_size)
    with FlopCounterMode(display=False, depth=depth) as counter, torch.no_grad():
        call()
    return {name: float(sum(ops.values())) for name, ops in counter.get_flop_counts().items()}


def count_decode_step_on_meta(
    spec: ModelSpec, context_tokens: int, *, batch_size: int = 1
) -> float:
    """One decode forward of a language model: one new token against a KV cache that
    already holds ``context_tokens - 1`` tokens (so it attends over ``context_tokens``)."""
    module = _module(spec, spec.denoiser.name)
    with torch.no_grad():
        past = module(token_ids(batch_size, context_tokens - 1), use_cache=True).past_key_values
    ids = token_ids(batch_size, 1)
    return count(lambda: module(ids, past_key_values=past, use_cache=True, logits_to_keep=1))
