"""Count what a transformers module does in one call on the meta device: FLOPs, kernel
launches, bytes of weights read and of tensors produced.

Two dispatch modes watch the call. ``torch.utils.flop_counter.FlopCounterMode`` counts
FLOPs as everywhere in ``genwatt.flops`` (2 x multiply-accumulates of matrix products
and convolutions; on meta, scaled-dot-product attention decomposes into its two batched
products). Inside it, ``OpCounter`` sees every aten operation as eager PyTorch
dispatches it, before FlopCounterMode decomposes anything, and keeps:

- ``kernels``: operations that launch a kernel in eager PyTorch. Views, reshapes
  without a copy, ``detach`` and bare allocations launch none and are left out; a
  fused operation (``addmm``) counts once. On meta, ``scaled_dot_product_attention``
  runs its math decomposition (score matrix, softmax, two batched products) where a
  GPU launches one fused kernel that never writes the scores, so a
  ``TorchFunctionMode`` counts each SDPA call as one kernel producing its output only
  (its FLOPs are still the decomposition's two products, as FlopCounterMode counts a
  fused kernel). Models with eager attention (DeBERTa, T5, BLOOM) launch the separate
  kernels on a GPU too, and are counted as they run.
- ``activation_bytes``: bytes of every tensor those operations produce, an upper bound
  of the memory traffic besides weights (a kernel that fuses two operations writes
  one tensor, not two).
- ``weight_bytes``: bytes of the parameters read, each once per call; an embedding
  table reads only the rows it gathers, unless the same table is also used whole (a
  tied output layer).

``Bucketed`` splits a call between phases with forward hooks, so that an image encoder
that runs inside a captioner's first forward (GIT) is counted apart from the rest.

Meta tensors hold no data, so a ``.item()`` cannot be answered. transformers asks one
question of data on the way: whether an attention mask is all ones (to drop it and let
SDPA run unmasked). A pipeline's query of one sequence, or a batch of equal length,
has no padding, so ``OpCounter`` answers True to a boolean ``.item()`` on meta and
records that it did; any other data-dependent value is refused with an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from genwatt.errors import ConfigError

aten = torch.ops.aten

# Operations that launch no kernel: metadata, aliasing and bare allocation.
_NO_KERNEL = frozenset(
    {
        aten._unsafe_view,
        aten.detach,
        aten.alias,
        aten.lift_fresh,
        aten.empty,
        aten.empty_like,
        aten.empty_strided,
        aten.new_empty,
        aten.new_empty_strided,
        aten._local_scalar_dense,
        aten.is_same_size,
        aten.sym_size,
        aten.sym_stride,
        aten.sym_numel,
        aten.sym_storage_offset,
    }
)
_SDPA = torch.nn.functional.scaled_dot_product_attention
# Gathers of rows: an embedding table read only where indexed.
_GATHERS = frozenset({aten.embedding, aten.index_select, aten.index})


@dataclass
class Tally:
    """What one phase of a call did (one bucket)."""

    flops: float = 0.0
    kernels: int = 0
    activation_bytes: float = 0.0
    full_params: set[int] = field(default_factory=set)
    gathered: dict[int, float] = field(default_factory=dict)
    answered_items: int = 0

    def weight_bytes(self, sizes: dict[int, int]) -> float:
        """Bytes of the parameters read: whole tensors, plus the rows gathered from the
        tables not also read whole."""
        whole = sum(sizes[p] for p in self.full_params)
        rows = sum(v for p, v in self.gathered.items() if p not in self.full_params)
        return float(whole + rows)


class _TotalOnly:
    """Stands in for FlopCounterMode's module tracker, which hooks every module call to
    attribute FLOPs to parents: every FLOP is still counted under "Global"."""

    parents = frozenset({"Global"})

    def __enter__(self) -> _TotalOnly:
        return self

    def __exit__(self, *args: object) -> None:
        return None


def _tensors(values: Iterable[Any]) -> Iterable[torch.Tensor]:
    for value in values:
        if isinstance(value, torch.Tensor):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from _tensors(value)


def _nbytes(value: Any) -> float:
    return float(sum(t.numel() * t.element_size() for t in _tensors([value])))


class OpCounter(TorchDispatchMode):
    """Counts kernels, bytes produced and parameters read, into ``self.current``."""

    def __init__(self, params: dict[int, int]) -> None:
        super().__init__()
        self.params = params  # id of a parameter tensor -> its bytes
        self.current = Tally()
        self.fused = 0  # > 0 inside a fused SDPA call: its parts are not kernels of their own

    def _param(self, tensor: torch.Tensor) -> int | None:
        base = tensor._base if tensor._base is not None else tensor
        key = id(base)
        return key if key in self.params else None

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        tally = self.current
        packet = func.overloadpacket
        if packet is aten._local_scalar_dense and args and args[0].device.type == "meta":
            if args[0].dtype is torch.bool:
                tally.answered_items += 1
                return True
            raise ConfigError(
                f"a meta count reached .item() on a {args[0].dtype} tensor, whose value "
                "only real data can give; count this model with real (tiny) weights instead"
            )
        out = func(*args, **kwargs)
        for tensor in _tensors([*args, *kwargs.values()]):
            key = self._param(tensor)
            if key is None:
                continue
            if packet in _GATHERS:
                tally.gathered[key] = tally.gathered.get(key, 0.0) + _nbytes(out)
            else:
                tally.full_params.add(key)
        if func.is_view or packet in _NO_KERNEL or self.fused:
            return out
        tally.kernels += 1
        tally.activation_bytes += _nbytes(out)
        return out


class FusedAttention(TorchFunctionMode):
    """Counts each ``scaled_dot_product_attention`` as one kernel writing its output."""

    def __init__(self, ops: OpCounter) -> None:
        super().__init__()
        self.ops = ops

    def __torch_function__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        if func is not _SDPA:
            return func(*args, **kwargs)
        self.ops.fused += 1
        try:
            out = func(*args, **kwargs)
        finally:
            self.ops.fused -= 1
        self.ops.current.kernels += 1
        self.ops.current.activation_bytes += _nbytes(out)
        return out


class Bucketed:
    """Count one call of a model, split between phases by the modules that run.

    ``routes`` maps a submodule to the bucket its calls go to (``"encode"`` for an
    image encoder that runs inside a forward); everything else goes to ``default``.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.params = {id(p): p.numel() * p.element_size() for p in model.parameters()}

    def count(
        self,
        call: Callable[[], Any],
        default: str,
        routes: dict[str, torch.nn.Module] | None = None,
    ) -> tuple[Any, dict[str, Tally]]:
        """Run ``call()`` under both counters; the result and a ``Tally`` per bucket."""
        tallies: dict[str, Tally] = {default: Tally()}
        counter = FlopCounterMode(display=False)
        if hasattr(counter, "mod_tracker"):
            counter.mod_tracker = _TotalOnly()
        ops = OpCounter(self.params)
        ops.current = tallies[default]
        stack: list[str] = [default]
        last_flops = [0.0]

        def switch(bucket: str | None) -> None:
            """Close the running bucket's FLOPs; enter ``bucket`` (None: leave one)."""
            now = float(counter.get_total_flops())
            tallies[stack[-1]].flops += now - last_flops[0]
            last_flops[0] = now
            if bucket is None:
                stack.pop()
            else:
                stack.append(bucket)
            ops.current = tallies.setdefault(stack[-1], Tally())

        with ExitStack() as hooks:
            for bucket, module in (routes or {}).items():
                tallies.setdefault(bucket, Tally())
                pre = module.register_forward_pre_hook(
                    lambda *_, b=bucket: switch(b)  # type: ignore[misc]
                )
                post = module.register_forward_hook(lambda *_: switch(None))
                hooks.callback(pre.remove)
                hooks.callback(post.remove)
            with counter, ops, FusedAttention(ops), torch.no_grad():
                result = call()
            tallies[stack[-1]].flops += float(counter.get_total_flops()) - last_flops[0]
        return result, tallies
