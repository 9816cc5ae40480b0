"""The model registry: every supported architecture, its real config, and three ways to
get weights for it (``pretrained``, ``random`` real-size, ``tiny``).

Nothing in this package imports torch, diffusers or transformers at import time; only
the build functions do, when called.
"""

from __future__ import annotations

from genwatt.models.build import (
    build_component,
    build_pipeline,
    build_text_model,
    spec_for_weights,
    tiny_pipeline,
)
from genwatt.models.params import (
    ResolvedParams,
    generate_kwargs,
    pipeline_call_kwargs,
    resolve_params,
)
from genwatt.models.registry import get_model, list_models
from genwatt.models.spec import WEIGHTS, ComponentSpec, ModelSpec

__all__ = [
    "WEIGHTS",
    "ComponentSpec",
    "ModelSpec",
    "ResolvedParams",
    "build_component",
    "build_pipeline",
    "build_text_model",
    "generate_kwargs",
    "get_model",
    "list_models",
    "pipeline_call_kwargs",
    "resolve_params",
    "spec_for_weights",
    "tiny_pipeline",
]
