"""What a spec's names become: component classes, dtypes, schedulers, and the casting
``from_pretrained`` does.

Both ways of getting weights need these: ``build`` makes modules from configs and
``pretrained`` loads checkpoints, and a model built either way must hold the same
classes in the same dtypes. They live here, below both, so that ``build`` can hand the
pretrained case to ``pretrained`` without ``pretrained`` reaching back into ``build``.
torch, diffusers and transformers are imported inside the functions that use them.
"""

from __future__ import annotations

import copy
import importlib
from typing import TYPE_CHECKING, Any

from genwatt.errors import ConfigError
from genwatt.models.spec import ComponentSpec, ModelSpec

if TYPE_CHECKING:
    import torch


def resolve_dtype(dtype: torch.dtype | str | None) -> torch.dtype | None:
    """Accept ``torch.bfloat16`` or its name ("bfloat16", "bf16", "fp16"...)."""
    import torch

    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    aliases = {"bf16": "bfloat16", "fp16": "float16", "half": "float16", "fp32": "float32"}
    name = aliases.get(str(dtype).lower(), str(dtype).lower())
    value = getattr(torch, name, None)
    if not isinstance(value, torch.dtype):
        raise ConfigError(f"Unknown dtype {dtype!r}; use float32, bfloat16 or float16.")
    return value


def load_object(path: str) -> Any:
    """The object at ``"package.module:name"``: genwatt's own classes and loaders, which
    a spec names as text so that reading the registry imports none of them."""
    module, _, name = path.partition(":")
    if not module or not name:
        raise ValueError(f"expected 'package.module:name', got {path!r}")
    return getattr(importlib.import_module(module), name)


def component_class(comp: ComponentSpec) -> type:
    """The class a component is built from, imported from its library."""
    if comp.library == "genwatt":
        return load_object(f"{comp.module}:{comp.class_name}")
    if comp.library == "diffusers":
        import diffusers

        return getattr(diffusers, comp.class_name)
    import transformers

    return getattr(transformers, comp.class_name)


def build_scheduler(spec: ModelSpec) -> Any:
    """The scheduler the authors ship, from the class name and arguments in the spec."""
    import diffusers

    if spec.scheduler is None:
        raise ConfigError(f"{spec.name} is not a diffusion model; it has no scheduler.")
    return getattr(diffusers, spec.scheduler.class_name)(
        **copy.deepcopy(dict(spec.scheduler.config))
    )


def _fp32_module_names(module: torch.nn.Module, dtype: torch.dtype) -> frozenset[str]:
    """Submodules that ``from_pretrained`` would keep in float32 at ``dtype``.

    diffusers keeps ``_keep_in_fp32_modules`` at any dtype (WAN's norms and rope);
    transformers keeps them only under float16 (T5's ``wo``), and its ``_strict`` ones
    under float16 and bfloat16.
    """
    import torch

    if dtype == torch.float32:
        return frozenset()
    keep = set(getattr(module, "_keep_in_fp32_modules", None) or ())
    if type(module).__module__.startswith("diffusers"):
        return frozenset(keep)
    if dtype != torch.float16:
        keep.clear()
    keep.update(getattr(module, "_keep_in_fp32_modules_strict", None) or ())
    return frozenset(keep)


def cast_like_from_pretrained(module: torch.nn.Module, dtype: torch.dtype | None) -> None:
    """Cast parameters and saved buffers to ``dtype`` the way loading a checkpoint would.

    A plain ``module.to(dtype)`` would also cast the modules a checkpoint load keeps in
    float32, and the buffers it never touches (rope tables), so a random-weight model
    would not compute exactly like the pretrained one.
    """
    import torch

    if dtype is None:
        return
    keep = _fp32_module_names(module, dtype)
    for prefix, sub in module.named_modules():
        tensors = [(k, p) for k, p in sub._parameters.items() if p is not None]
        tensors += [
            (k, b)
            for k, b in sub._buffers.items()
            if b is not None and k not in sub._non_persistent_buffers_set
        ]
        for key, tensor in tensors:
            parts = f"{prefix}.{key}".split(".")
            target = torch.float32 if any(part in keep for part in parts) else dtype
            if tensor.is_floating_point() and tensor.dtype != target:
                tensor.data = tensor.data.to(target)
