"""The guidance a pipeline runs at when its caller gives none, checked against diffusers."""

from __future__ import annotations

import inspect

import pytest

from genwatt.models.call_defaults import PIPELINE_CALL_GUIDANCE, call_default_guidance
from genwatt.models.registry import get_model, list_models


@pytest.mark.parametrize("pipeline_class", sorted(PIPELINE_CALL_GUIDANCE))
def test_the_table_holds_the_installed_diffusers_defaults(pipeline_class: str) -> None:
    diffusers = pytest.importorskip("diffusers")
    call = getattr(diffusers, pipeline_class).__call__
    default = inspect.signature(call).parameters["guidance_scale"].default
    assert PIPELINE_CALL_GUIDANCE[pipeline_class] == pytest.approx(default)


def test_every_diffusion_pipeline_of_the_registry_is_in_the_table() -> None:
    classes = {s.pipeline_class for s in list_models() if s.task != "text"}
    assert classes <= set(PIPELINE_CALL_GUIDANCE)


def test_only_a_model_whose_card_differs_gets_the_pipeline_s_guidance() -> None:
    assert call_default_guidance(get_model("sd-turbo")) == 7.5  # its card: guidance 0
    assert call_default_guidance(get_model("sdxl-turbo")) == 5.0
    assert call_default_guidance(get_model("sdxl-base-1.0")) is None  # the card's is 5.0
    assert call_default_guidance(get_model("llama-3.1-8b-instruct")) is None  # no pipeline
