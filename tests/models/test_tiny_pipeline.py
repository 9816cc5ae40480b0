"""genwatt.tiny_pipeline: a model's tiny form with the call settings it is meant to run at.

A miniature called without sizes runs at the real model's defaults (WAN: 81 frames at
832x480), which takes minutes on a CPU; the settings handed back must make it a
seconds-long call, and must be the ones ``genwatt bench --weights tiny`` resolves.
"""

from __future__ import annotations

import inspect
import time

import diffusers
import numpy as np
import pytest
import torch

import genwatt
from genwatt.errors import ConfigError
from genwatt.models import (
    build_pipeline,
    get_model,
    list_models,
    pipeline_call_kwargs,
    resolve_params,
    tiny_pipeline,
)
from genwatt.models.spec import ModelSpec

PROMPT = "a red circle moves left"


def test_real_model_gives_its_tiny_form_and_settings_that_run_in_seconds() -> None:
    pipe, call = genwatt.tiny_pipeline("wan2.1-t2v-1.3b")
    tiny = get_model("wan-tiny")
    assert type(pipe) is diffusers.WanPipeline
    assert pipe.transformer.config.num_layers == tiny.denoiser.config["num_layers"]
    assert call == {
        "height": 32,
        "width": 32,
        "num_frames": 9,
        "num_inference_steps": 2,
        "guidance_scale": 5.0,
        "max_sequence_length": 16,
    }
    start = time.perf_counter()
    video = pipe(prompt=PROMPT, generator=torch.Generator().manual_seed(0), **call).frames
    assert time.perf_counter() - start < 10
    assert np.asarray(video).shape == (1, 9, 32, 32, 3)


def test_every_size_setting_the_pipeline_would_default_is_given() -> None:
    """The fault: any size left out falls back to the real model's default. Every
    setting of the pipeline's signature that the tiny spec resolves must be in ``call``."""
    pipe, call = tiny_pipeline("wan-tiny")
    signature = inspect.signature(type(pipe).__call__).parameters
    sized = {"height", "width", "num_frames", "num_inference_steps", "max_sequence_length"}
    assert sized <= signature.keys()
    assert sized <= call.keys()


@pytest.mark.parametrize(
    "spec", [pytest.param(s, id=s.name) for s in list_models() if s.is_tiny and s.task != "text"]
)
def test_settings_are_those_the_runner_resolves_less_the_per_call_ones(
    spec: ModelSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every family's build is covered by test_tiny_generate; only the settings here.
    monkeypatch.setattr("genwatt.models.build.build_pipeline", lambda *args, **kwargs: None)
    _, call = tiny_pipeline(spec.name)
    expected = pipeline_call_kwargs(spec, resolve_params(spec), prompt=PROMPT)
    for per_call in ("prompt", "generator", "output_type"):
        assert per_call not in call
        expected.pop(per_call)
    assert call == expected


def test_same_weights_as_the_builder_that_bench_uses() -> None:
    pipe, _ = tiny_pipeline("wan2.1-t2v-1.3b")
    built = build_pipeline(get_model("wan2.1-t2v-1.3b"), "tiny")
    for (name, a), (_, b) in zip(
        pipe.transformer.state_dict().items(), built.transformer.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_each_call_gets_its_own_settings() -> None:
    _, first = tiny_pipeline("wan-tiny")
    first["num_frames"] = 81
    _, second = tiny_pipeline("wan-tiny")
    assert second["num_frames"] == 9


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("qwen2-tiny", "text model"),
        ("llama-3.1-8b-instruct", "build_text_model"),
        ("wan2.1-t2v-13b", "Did you mean"),
        (None, "model name"),
        (3, "model name"),
    ],
)
def test_bad_model_is_one_clear_line(model: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        tiny_pipeline(model)
    assert "\n" not in str(error.value)
