"""Turn a ``TaskModelSpec`` into the field's own pipeline: pretrained, random or tiny.

``pretrained`` loads the checkpoint with ``from_pretrained`` (model, tokenizer,
processor) for users who have the Hub or a local cache. ``random`` builds the real
architecture from its config with random weights, which is how AI Energy Score runs
most tasks (``no_weights``): the compute, and so latency and energy, are the real
model's. ``tiny`` builds the same classes at a few layers of a few dozen units, offline
in well under a second. Tokenizers, image processors and feature extractors of the
random and tiny forms are built in code.

Every task then runs through ``transformers.pipeline`` for its task name, except where
transformers has no pipeline for it (summarization and text-to-text generation left
transformers in v5; sentence similarity never had one): the spec names a genwatt
``Pipeline`` subclass, which keeps transformers' preprocess / forward / postprocess
structure.
"""

from __future__ import annotations

import copy
import zlib
from typing import TYPE_CHECKING, Any

from genwatt.errors import ConfigError
from genwatt.models.build import TINY_SEED, building_on, check_weights
from genwatt.models.components import load_object, resolve_dtype
from genwatt.models.tasks.spec import ProcessorSpec, TaskModelSpec, TokenizerScheme

if TYPE_CHECKING:
    import torch
    from transformers import Pipeline, PreTrainedModel


def model_config(spec: TaskModelSpec, weights: str) -> Any:
    """The transformers config object of the real (``random``) or tiny form."""
    import transformers

    values = copy.deepcopy(dict(spec.config))
    if weights == "tiny":
        values.update(copy.deepcopy(dict(spec.tiny_config)))
    return getattr(transformers, spec.config_class)(**values)


def build_task_model(
    spec: TaskModelSpec,
    weights: str = "random",
    device: torch.device | str = "cpu",
    dtype: torch.dtype | str | None = None,
) -> PreTrainedModel:
    """The model of ``spec`` with random real-size or tiny weights, in eval mode.

    On ``meta`` nothing is allocated (parameter counts, FLOPs). Elsewhere the weights
    are seeded from the repo id, so two builds are identical.
    """
    import torch
    import transformers

    weights = check_weights(weights)
    if weights == "pretrained":
        raise ConfigError("build_task_model makes models from configs; use build_task_pipeline")
    config = model_config(spec, weights)
    target = torch.device(device)
    seed = TINY_SEED + zlib.crc32(f"{spec.repo_id}/{weights}".encode())
    with building_on(target, seed):
        model = getattr(transformers, spec.class_name)(config)
    if spec.generation and getattr(model, "generation_config", None) is not None:
        model.generation_config.update(**copy.deepcopy(dict(spec.generation)))
    model = model.to(target)
    torch_dtype = resolve_dtype(dtype) or resolve_dtype(spec.torch_dtype)
    if torch_dtype is not None and target.type != "meta":
        model = model.to(torch_dtype)
    model = model.eval().requires_grad_(False)
    setup_model(model, spec, weights)
    return model


def setup_model(model: Any, spec: TaskModelSpec, weights: str) -> None:
    """Run the spec's ``model_setup`` hook, if any: what ``config.json`` cannot carry."""
    if spec.model_setup is not None:
        load_object(spec.model_setup)(model, spec, weights)


def tokenizer_scheme(spec: TaskModelSpec, weights: str) -> TokenizerScheme | None:
    """The scheme the built-in tokenizer follows: compact ids for the tiny form."""
    if spec.tokenizer is None:
        return None
    return spec.tokenizer.compact() if weights == "tiny" else spec.tokenizer


def build_processor(processor: ProcessorSpec) -> Any:
    """An image processor or feature extractor from its class name and real config."""
    import transformers

    return getattr(transformers, processor.class_name)(**copy.deepcopy(dict(processor.config)))


def _processor_spec(spec: TaskModelSpec, weights: str) -> ProcessorSpec | None:
    if weights == "tiny" and spec.tiny_processor is not None:
        return spec.tiny_processor
    return spec.processor


def pipeline_parts(spec: TaskModelSpec, weights: str) -> dict[str, Any]:
    """Tokenizer, image processor and feature extractor built in code, by the names
    ``transformers.pipeline`` takes them."""
    from genwatt.models.tasks.text_tokenizer import build_scheme_tokenizer

    parts: dict[str, Any] = {}
    scheme = tokenizer_scheme(spec, weights)
    if spec.tokenizer_factory is not None:
        parts["tokenizer"] = load_object(spec.tokenizer_factory)(spec, weights)
    elif scheme is not None:
        parts["tokenizer"] = build_scheme_tokenizer(scheme)
    processor_spec = _processor_spec(spec, weights)
    if processor_spec is not None:
        processor = build_processor(processor_spec)
        kind = (
            "feature_extractor"
            if "FeatureExtractor" in processor_spec.class_name
            else "image_processor"
        )
        parts[kind] = processor
    return parts


def _load_pretrained(spec: TaskModelSpec, device: Any, dtype: Any) -> tuple[Any, dict[str, Any]]:
    """Model, tokenizer and processor from the Hub or the local cache."""
    import transformers

    def load() -> tuple[Any, dict[str, Any]]:
        model = getattr(transformers, spec.class_name).from_pretrained(
            spec.repo_id, dtype=dtype or resolve_dtype(spec.torch_dtype), revision=spec.revision
        )
        parts: dict[str, Any] = {}
        if spec.tokenizer is not None or spec.tokenizer_factory is not None:
            parts["tokenizer"] = transformers.AutoTokenizer.from_pretrained(
                spec.repo_id, revision=spec.revision
            )
            if spec.tokenizer is not None:
                _pad_like_scheme(parts["tokenizer"], spec.tokenizer)
        if spec.processor is not None:
            loader = (
                transformers.AutoFeatureExtractor
                if "FeatureExtractor" in spec.processor.class_name
                else transformers.AutoImageProcessor
            )
            kind = (
                "feature_extractor"
                if loader is transformers.AutoFeatureExtractor
                else "image_processor"
            )
            parts[kind] = loader.from_pretrained(spec.repo_id, revision=spec.revision)
        model = model.to(device).eval()
        setup_model(model, spec, "pretrained")
        return model, parts

    try:
        return load()
    except (OSError, ValueError) as exc:
        raise weights_unavailable_task(spec, exc) from exc


def _pad_like_scheme(tokenizer: Any, scheme: TokenizerScheme) -> None:
    """Give a pretrained tokenizer that has no pad token (GPT-2, Llama, Mistral) the one
    its scheme names, so batches can be padded; generate() itself pads with eos."""
    pad = scheme.specials.get("pad")
    if getattr(tokenizer, "pad_token", None) is None and pad is not None:
        tokenizer.pad_token = pad[0]


def weights_unavailable_task(spec: TaskModelSpec, exc: BaseException) -> ConfigError:
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ConfigError(
        f"Cannot load the pretrained weights of {spec.repo_id} ({type(exc).__name__}: "
        f"{reason}). The Hub is unreachable or they are not in the local cache; download them "
        f"where it is reachable (`huggingface-cli download {spec.repo_id}`), or measure "
        "without them: --weights random builds the real architecture with random weights "
        "(the same compute), --weights tiny its miniature."
    )


def build_task_pipeline(
    spec: TaskModelSpec,
    task: str,
    weights: str = "tiny",
    device: torch.device | str = "cpu",
    dtype: torch.dtype | str | None = None,
) -> Pipeline:
    """The pipeline that runs ``task`` on ``spec``'s model, with weights of the kind asked."""
    import torch
    import transformers

    if task not in spec.tasks:
        raise ConfigError(f"{spec.repo_id} does not run {task}; it runs {', '.join(spec.tasks)}")
    weights = check_weights(weights)
    target = torch.device(device)
    if weights == "pretrained":
        model, parts = _load_pretrained(spec, target, resolve_dtype(dtype))
    else:
        model = build_task_model(spec, weights, target, dtype)
        parts = pipeline_parts(spec, weights)
    if spec.pipeline is not None:
        pipeline_class = load_object(spec.pipeline)
        return pipeline_class(model=model, device=target, **parts, **spec.pipeline_kwargs)
    return transformers.pipeline(spec.pipeline_task or task, model=model, device=target, **parts)


__all__ = [
    "build_processor",
    "build_task_model",
    "build_task_pipeline",
    "model_config",
    "pipeline_parts",
    "setup_model",
    "tokenizer_scheme",
    "weights_unavailable_task",
]
