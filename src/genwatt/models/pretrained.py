"""The authors' weights, loaded with ``from_pretrained`` from the Hub or the local cache.

This is the only path in ``genwatt.models`` that touches the network. When the weights
cannot be had (no network, gated repo, empty cache) the error says so in one line and
points at the two ways to measure without them. genwatt's own reference model is the
exception: its weights ship inside the package, so its spec names a loader
(``ModelSpec.pretrained_loader``) and nothing is fetched from anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from genwatt.errors import ConfigError
from genwatt.models.components import (
    build_scheduler,
    cast_like_from_pretrained,
    component_class,
    load_object,
    resolve_dtype,
)
from genwatt.models.spec import ComponentSpec, ModelSpec

if TYPE_CHECKING:
    import torch
    from diffusers import DiffusionPipeline
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

T = TypeVar("T")


def weights_unavailable(spec: ModelSpec, repo: str, exc: BaseException) -> ConfigError:
    """The one-line error for weights that cannot be loaded, with what to do instead."""
    import os

    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    cache = os.environ.get("HF_HUB_CACHE") or os.environ.get("HF_HOME") or "~/.cache/huggingface"
    return ConfigError(
        f"Cannot load the pretrained weights of {spec.name} from {repo!r} "
        f"({type(exc).__name__}: {reason}). The Hugging Face Hub is unreachable or the "
        f"weights are not in the local cache ({cache}); gated repos also need "
        "`huggingface-cli login` after accepting the licence. Download them where the Hub "
        f"is reachable (`huggingface-cli download {repo}`), or measure without them: "
        "`--weights random` builds the real-size architecture with random weights (the "
        f"same compute), `--weights tiny` runs its miniature {spec.tiny_name} on a CPU."
    )


def _load(spec: ModelSpec, repo: str, loader: Callable[[], T]) -> T:
    try:
        return loader()
    except OSError as exc:  # hub, network and cache errors are all OSError subclasses
        raise weights_unavailable(spec, repo, exc) from exc


def _dtype_kwarg(comp: ComponentSpec) -> str:
    # transformers 5 renamed torch_dtype to dtype; diffusers still calls it torch_dtype.
    return "torch_dtype" if comp.library == "diffusers" else "dtype"


def _load_component(
    spec: ModelSpec, comp: ComponentSpec, pipeline_repo: str, dtype: torch.dtype | None
) -> Any:
    """One component from its own repo, or from its subfolder of the pipeline's repo."""
    cls: Any = component_class(comp)
    dtype_kwarg = {_dtype_kwarg(comp): dtype}
    if comp.repo_id is not None:
        own_repo = comp.repo_id
        return _load(spec, own_repo, lambda: cls.from_pretrained(own_repo, **dtype_kwarg))
    return _load(
        spec,
        pipeline_repo,
        lambda: cls.from_pretrained(pipeline_repo, subfolder=comp.name, **dtype_kwarg),
    )


def load_pipeline(
    spec: ModelSpec, device: torch.device | str, dtype: torch.dtype | None
) -> DiffusionPipeline:
    """``<Pipeline>.from_pretrained(repo_id, torch_dtype=...)``, as the model card does it.

    Components that live in another repo (AnimateDiff's motion adapter) or that the
    authors load in another dtype (WAN's VAE in float32) are loaded first and passed in.
    A spec with a ``pretrained_loader`` loads from the package instead (``_packaged``).
    """
    import diffusers

    if spec.pretrained_loader is not None:
        return _packaged(spec, spec.pretrained_loader, device, dtype)
    repo = spec.pipeline_repo_id or spec.repo_id
    assert repo is not None and spec.pipeline_class is not None
    torch_dtype = dtype or resolve_dtype(spec.torch_dtype)
    extra: dict[str, Any] = {}
    for comp in spec.components:
        comp_dtype = dtype or resolve_dtype(comp.torch_dtype) or torch_dtype
        if comp.repo_id is not None or comp_dtype != torch_dtype:
            extra[comp.name] = _load_component(spec, comp, repo, comp_dtype)
    if spec.scheduler is not None and spec.scheduler.replaces_pretrained:
        extra["scheduler"] = build_scheduler(spec)

    pipeline_class = getattr(diffusers, spec.pipeline_class)
    pipe = _load(
        spec, repo, lambda: pipeline_class.from_pretrained(repo, torch_dtype=torch_dtype, **extra)
    )
    return pipe.to(device)


def _packaged(
    spec: ModelSpec, loader: str, device: torch.device | str, dtype: torch.dtype | None
) -> DiffusionPipeline:
    """The pipeline with the weights that ship inside genwatt, moved and cast as asked.

    The loader builds on the CPU in the spec's ``torch_dtype`` (the dtype it was trained
    in), so nothing is cast unless ``dtype`` asks for it; then every component is cast
    as ``from_pretrained`` would cast it (WAN's norms stay in float32), not by a plain
    ``pipe.to(dtype)``.
    """
    try:
        pipe = load_object(loader)()
    except ConfigError as exc:  # the weights file is missing from the installation
        raise ConfigError(
            f"{str(exc).rstrip('.')}. To measure without them, `--weights random` builds "
            f"{spec.name} with random weights (the same compute; the output is noise)."
        ) from exc
    if dtype is not None:
        for comp in spec.components:
            cast_like_from_pretrained(getattr(pipe, comp.name), dtype)
    return pipe.to(device)


def load_text_model(
    spec: ModelSpec, device: torch.device | str, dtype: torch.dtype | None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """``AutoModelForCausalLM`` and ``AutoTokenizer`` from the authors' repo."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    repo = spec.repo_id
    assert repo is not None
    torch_dtype = dtype or resolve_dtype(spec.torch_dtype)
    tokenizer = _load(spec, repo, lambda: AutoTokenizer.from_pretrained(repo))
    model = _load(spec, repo, lambda: AutoModelForCausalLM.from_pretrained(repo, dtype=torch_dtype))
    # Batched prompts are padded on the left for generation; Llama 3 ships no pad token.
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device).eval(), tokenizer
