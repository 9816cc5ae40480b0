"""Exact FLOPs of a generation, in closed form, checked against a meta-device count.

``generation_flops(spec, params)`` gives the FLOPs of one pipeline call phase by phase
(text encoders, denoising, VAE decode; prefill and decode for text models), from the
registry's real configs and the pipeline's own rules for steps, guidance, padding and
frame rounding. It is pure arithmetic and imports no torch, so ``genwatt predict``
stays fast.

What is counted: FLOPs = 2 x multiply-accumulates of matrix products and convolutions,
exactly what ``torch.utils.flop_counter.FlopCounterMode`` counts. Elementwise work
(norms, activations, softmax, modulation arithmetic, rotary embeddings, residual adds,
interpolation, scheduler updates) and biases are left out on both sides, so that the
closed form and the counter compare like with like. It is small in FLOPs: the largest
part, softmax, costs about 5 operations per attention score against 4 x head_dim for
the two products around it (1-3 %), and norms and activations a few operations per
activation against hundreds to thousands per output of a linear or convolution. Its
memory traffic is not small, which is one reason energy is not exactly proportional
to these numbers.

``count_on_meta(spec, params, component)`` is the cross-check: the real diffusers or
transformers module built on ``torch.device("meta")`` and called as the pipeline calls
it, under ``FlopCounterMode``. It imports torch when called.
"""

from __future__ import annotations

from genwatt.flops.generation import component_call_flops, generation_flops
from genwatt.flops.result import PARTS, ForwardFlops, GenerationFlops
from genwatt.models.params import ResolvedParams
from genwatt.models.spec import ModelSpec


def count_on_meta(
    spec: ModelSpec, params: ResolvedParams, component: str, *, batch_size: int | None = None
) -> float:
    """FlopCounterMode on meta: one call of ``component`` as the pipeline makes it
    (``batch_size`` defaults to ``params.batch_size``).

    Imports torch, diffusers and transformers (seconds); see ``genwatt.flops.meta_count``.
    """
    from genwatt.flops.meta_count import count_on_meta as count

    return count(spec, params, component, batch_size=batch_size)


__all__ = [
    "PARTS",
    "ForwardFlops",
    "GenerationFlops",
    "component_call_flops",
    "count_on_meta",
    "generation_flops",
]
