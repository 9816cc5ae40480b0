"""Turn a ModelSpec into modules and pipelines: random real-size, tiny, or pretrained.

Every architecture is built the same way, from the class names and constructor
arguments in its spec; no family needs code of its own. ``random`` and ``tiny`` differ
only in which spec they read, and both seed the generator per component so that two
builds give the same weights whatever order the components are made in.

On ``device="meta"`` nothing is allocated: a 14B transformer is built in about a second,
which is what the FLOP counter relies on.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from genwatt.errors import ConfigError
from genwatt.models.components import (
    build_scheduler,
    cast_like_from_pretrained,
    component_class,
    load_object,
    resolve_dtype,
)
from genwatt.models.params import pipeline_call_kwargs, resolve_params
from genwatt.models.pretrained import load_pipeline, load_text_model
from genwatt.models.registry import get_model
from genwatt.models.spec import WEIGHTS, ComponentSpec, ModelSpec, Weights
from genwatt.models.tokenizer import build_tokenizer

if TYPE_CHECKING:
    import torch
    from diffusers import DiffusionPipeline
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

TINY_SEED = 0


def check_weights(weights: str) -> Weights:
    if weights not in WEIGHTS:
        raise ConfigError(f"Unknown weights {weights!r}; use one of: {', '.join(WEIGHTS)}.")
    return weights  # type: ignore[return-value]


def spec_for_weights(spec: ModelSpec, weights: str | None) -> ModelSpec:
    """The spec that describes what actually gets built.

    ``tiny`` weights for a real model mean its family's miniature, whose defaults (sizes,
    steps) are the ones to run it at.
    """
    weights = check_weights(weights or spec.default_weights)
    if weights == "tiny" and not spec.is_tiny:
        return get_model(spec.tiny_name)
    if weights == "pretrained" and not spec.has_pretrained:
        raise ConfigError(
            f"{spec.name} is a built-in miniature and has no pretrained weights; "
            "use --weights tiny (or pick a real model from `genwatt models`)."
        )
    return spec


def _seed_for(spec: ModelSpec, component: str) -> int:
    # Stable across runs and processes (unlike hash()), different per component.
    return TINY_SEED + zlib.crc32(f"{spec.name}/{component}".encode())


def _instantiate(comp: ComponentSpec) -> torch.nn.Module:
    """Call the component's class with its config; fresh copies so nothing is shared."""
    kwargs = copy.deepcopy(dict(comp.config))
    cls = component_class(comp)
    if comp.library != "transformers":
        return cls(**kwargs)
    import transformers

    return cls(getattr(transformers, comp.config_class or "")(**kwargs))


@contextmanager
def building_on(target: torch.device, seed: int) -> Iterator[None]:
    """Modules constructed inside are born on ``target``. On meta they have shapes but no
    storage (no allocation, no initialisation cost); elsewhere their random weights come
    from a generator seeded with ``seed`` and restored after, so two builds are identical
    whatever else drew random numbers before."""
    import torch

    with ExitStack() as stack:
        if target.type == "meta":
            stack.enter_context(torch.device("meta"))
        else:
            devices = [target] if target.type == "cuda" else []
            stack.enter_context(torch.random.fork_rng(devices=devices))
            torch.manual_seed(seed)
            if target.type != "cpu":
                stack.enter_context(target)
        yield


def build_component(
    spec: ModelSpec,
    component_name: str,
    weights: str = "random",
    device: torch.device | str = "meta",
    dtype: torch.dtype | str | None = None,
) -> torch.nn.Module:
    """One component (``transformer``, ``unet``, ``vae``, ``text_encoder``...) as a module.

    ``weights`` is ``random`` (the spec's own config) or ``tiny`` (its family's miniature).
    On ``meta`` the module has shapes but no storage: count parameters, trace FLOPs.
    Elsewhere it is built directly on ``device`` in float32 and then cast, so the peak
    memory is the component at 4 bytes per parameter (57 GB for WAN-14B's transformer).
    ``dtype`` defaults to the dtype the authors run this component in; modules that
    ``from_pretrained`` keeps in float32 stay in float32 here too.
    """
    import torch

    weights = check_weights(weights)
    if weights == "pretrained":
        raise ConfigError(
            "build_component makes modules from configs; load pretrained weights with "
            "build_pipeline(spec, 'pretrained') instead."
        )
    spec = spec_for_weights(spec, weights)
    comp = spec.component(component_name)
    target = torch.device(device)
    torch_dtype = resolve_dtype(dtype) or resolve_dtype(comp.torch_dtype or spec.torch_dtype)

    with building_on(target, _seed_for(spec, comp.name)):
        module = _instantiate(comp)
    # Some constructors make tables with numpy, outside the device context.
    module = module.to(target)
    cast_like_from_pretrained(module, torch_dtype)
    return module.eval().requires_grad_(False)


def build_tokenizers(spec: ModelSpec) -> dict[str, PreTrainedTokenizerBase]:
    """The spec's tokenizer slots, built in code (see ``genwatt.models.tokenizer``), or
    by the model's own ``factory`` where its embedding table fits no other vocabulary."""
    return {
        tok.name: load_object(tok.factory)()
        if tok.factory
        else build_tokenizer(
            tok.kind, tok.model_max_length, pad_token=tok.pad_token, padding_side=tok.padding_side
        )
        for tok in spec.tokenizers
    }


def _require_task(spec: ModelSpec, text: bool) -> None:
    if text and spec.task != "text":
        raise ConfigError(f"{spec.name} is a {spec.task} model; build it with build_pipeline.")
    if not text and spec.task == "text":
        raise ConfigError(f"{spec.name} is a text model; build it with build_text_model.")


def build_pipeline(
    spec: ModelSpec,
    weights: str | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | str | None = None,
) -> DiffusionPipeline:
    """The model's real diffusers pipeline, with weights of the kind asked for.

    ``pretrained`` loads the authors' checkpoint (hub or local cache; genwatt's own
    reference model from the package, see ``ModelSpec.pretrained_loader``); ``random`` builds
    the real-size architecture with random weights (the compute is the same); ``tiny``
    builds the family's miniature, which runs offline on a CPU in well under a second.
    ``weights`` defaults to the spec's own default. The progress bar is off: a runner
    that meters the call should not pay for drawing it.
    """
    _require_task(spec, text=False)
    weights = check_weights(weights or spec.default_weights)
    if weights == "pretrained":
        pipe = load_pipeline(spec_for_weights(spec, weights), device, resolve_dtype(dtype))
    else:
        import diffusers

        built = spec_for_weights(spec, weights)
        modules: dict[str, Any] = {
            c.name: build_component(built, c.name, weights, device, dtype) for c in built.components
        }
        modules.update(build_tokenizers(built))
        modules["scheduler"] = build_scheduler(built)
        pipeline_class = getattr(diffusers, built.pipeline_class or "")
        pipe = pipeline_class(**modules, **dict(built.pipeline_kwargs))
    pipe.set_progress_bar_config(disable=True)
    return pipe


# What ``pipeline_call_kwargs`` adds for one generation rather than for the model's size:
# the caller supplies these per call.
PER_GENERATION_KWARGS = ("prompt", "generator", "output_type")


def tiny_pipeline(
    model: str | ModelSpec,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | str | None = None,
) -> tuple[DiffusionPipeline, dict[str, Any]]:
    """A model's tiny form and the call settings it is meant to run at: ``pipe(**call)``.

    A diffusers pipeline called without sizes uses the real model's defaults (WAN: 81
    frames at 832x480, 512 text tokens), which makes even a miniature slow on a CPU.
    ``call`` holds the tiny form's own defaults (height, width, frames, steps,
    guidance, text length), resolved and checked as ``genwatt bench --weights tiny``
    resolves them, so ``pipe(prompt=..., **call)`` runs in seconds on a CPU. It leaves
    out what belongs to one generation (prompt, generator, output type).

    ``model`` is any registered diffusion model (``genwatt models``), real or tiny: a
    real model gives its family's miniature. Text models have no pipeline; use
    ``build_text_model(get_model(name), "tiny")``.
    """
    if not isinstance(model, str | ModelSpec):
        raise ConfigError(f"tiny_pipeline takes a model name from `genwatt models`, got {model!r}.")
    spec = get_model(model) if isinstance(model, str) else model
    if spec.task == "text":
        raise ConfigError(
            f"{spec.name} is a text model and has no diffusion pipeline; build its tiny "
            f"form with build_text_model(get_model({spec.name!r}), 'tiny')."
        )
    built = spec_for_weights(spec, "tiny")
    pipe = build_pipeline(built, "tiny", device, dtype)
    call = pipeline_call_kwargs(built, resolve_params(built), prompt="")
    for key in PER_GENERATION_KWARGS:
        call.pop(key)
    return pipe, call


def build_text_model(
    spec: ModelSpec,
    weights: str | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | str | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A causal language model and its tokenizer, with weights of the kind asked for."""
    _require_task(spec, text=True)
    weights = check_weights(weights or spec.default_weights)
    built = spec_for_weights(spec, weights)
    if weights == "pretrained":
        return load_text_model(built, device, resolve_dtype(dtype))
    model = build_component(built, built.denoiser.name, weights, device, dtype)
    (tokenizer,) = build_tokenizers(built).values()
    return model, tokenizer  # type: ignore[return-value]
