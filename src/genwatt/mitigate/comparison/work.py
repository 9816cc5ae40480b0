"""Count the denoising work a generation actually executes: FLOPs inside the denoiser.

Why FLOPs and not time: on the tiny reference model a cache hook's Python overhead is
comparable to the compute it saves, so wall time would hide the saving that a real GPU
model would see. FLOPs executed by the denoiser (matmuls, convolutions, attention) are
what a cache removes, and they are counted by ``torch.utils.flop_counter`` as the ops
run, so whatever a hook skips is simply not counted. The counter is a bare dispatch mode
over torch's own FLOP formulas (``flop_registry``): ``FlopCounterMode`` gives the same
totals but also tracks modules, which costs a third more time on a tiny model.

Only the denoiser is counted (``transformer``, ``transformer_2``, ``unet``): text
encoding and decoding are the same for every step-caching strategy and are not
"denoising". On CPU, attention runs under the math SDPA backend while counting because
the fused CPU kernel has no FLOP formula (it would count zero).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map
from torch.utils.flop_counter import flop_registry

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

DENOISER_ATTRIBUTES = ("transformer", "transformer_2", "unet")


@dataclass
class DenoisingWork:
    """What the denoiser executed inside a ``count_denoising`` block."""

    flops: int = 0
    #: Denoiser forwards that executed counted work. A call that a whole-call cache
    #: answers from its store runs no matmul, convolution or attention: not counted.
    calls: int = 0


def denoisers(pipe: DiffusionPipeline) -> list[torch.nn.Module]:
    """The pipeline's denoising networks (WAN 2.2 has two)."""
    return [m for a in DENOISER_ATTRIBUTES if (m := getattr(pipe, a, None)) is not None]


class _FlopTally(TorchDispatchMode):
    """Adds torch's FLOP formula of every op that has one; runs every op unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.flops += int(
                formula(
                    *tree_map(_shape, args),
                    **tree_map(_shape, kwargs),
                    out_val=tree_map(_shape, out),
                )
            )
        return out


def _shape(x: Any) -> Any:
    return x.shape if isinstance(x, torch.Tensor) else x


@contextmanager
def count_denoising(pipe: DiffusionPipeline) -> Iterator[DenoisingWork]:
    """Count FLOPs and calls of every denoiser forward run inside the block."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    work = DenoisingWork()
    handles = []
    active: list[tuple[ExitStack, Any]] = []

    def before(module: torch.nn.Module, args: Any, kwargs: Any) -> None:
        stack = ExitStack()
        if next(module.parameters()).device.type == "cpu":
            stack.enter_context(sdpa_kernel([SDPBackend.MATH]))
        counter = stack.enter_context(_FlopTally())
        active.append((stack, counter))

    def after(module: torch.nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        stack, counter = active.pop()
        stack.close()
        work.flops += counter.flops
        # The hook fires around the module's call even when a cache hook inside it
        # returned a stored result without computing; such a call did no work.
        work.calls += counter.flops > 0

    for module in denoisers(pipe):
        handles.append(module.register_forward_pre_hook(before, with_kwargs=True))
        handles.append(module.register_forward_hook(after, with_kwargs=True, always_call=True))
    try:
        yield work
    finally:
        for handle in handles:
            handle.remove()
        while active:  # a forward that raised before its hook ran
            active.pop()[0].close()
