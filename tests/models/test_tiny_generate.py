"""Every family's tiny form generates through its real diffusers pipeline, offline.

These are also the end-to-end checks of resolve_params: the frame counts it predicts are
compared with what the installed pipelines actually produce from the raw request.
"""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import Any
from unittest import mock

import diffusers
import numpy as np
import pytest
import torch
import transformers

from genwatt.errors import ConfigError
from genwatt.models import (
    build_pipeline,
    build_text_model,
    generate_kwargs,
    get_model,
    list_models,
    pipeline_call_kwargs,
    resolve_params,
    spec_for_weights,
)
from genwatt.models.spec import ModelSpec

PROMPT = "a cat walks on the grass, realistic"
TINY_DIFFUSION = [
    pytest.param(s, id=s.name) for s in list_models() if s.is_tiny and s.task != "text"
]
TINY_VIDEO = [s for s in list_models("t2v") if s.is_tiny]


def _frames(output: Any) -> np.ndarray:
    return np.asarray(output.frames if hasattr(output, "frames") else output.images)


def _run(spec: ModelSpec, pipe: Any, **params: Any) -> np.ndarray:
    resolved = resolve_params(spec, **params)
    kwargs = pipeline_call_kwargs(spec, resolved, PROMPT, torch.Generator().manual_seed(0))
    return _frames(pipe(**kwargs))


@pytest.mark.parametrize("spec", TINY_DIFFUSION)
def test_tiny_form_generates_through_the_real_pipeline(spec: ModelSpec) -> None:
    pipe = build_pipeline(spec)
    assert type(pipe) is getattr(diffusers, spec.pipeline_class or "")
    for comp in spec.components:
        if spec.family == "animatediff" and comp.name in ("unet", "motion_adapter"):
            continue  # the pipeline merges the two into a UNetMotionModel, checked below
        assert type(getattr(pipe, comp.name)).__name__ == comp.class_name
    if spec.family == "animatediff":
        assert type(pipe.unet) is diffusers.UNetMotionModel

    start = time.perf_counter()
    out = _run(spec, pipe)
    elapsed_s = time.perf_counter() - start

    d = spec.defaults
    if spec.task == "t2v":
        assert out.shape == (1, d.num_frames, d.height, d.width, 3)
    else:
        assert out.shape == (1, d.height, d.width, 3)
    assert np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert elapsed_s < 10, f"tiny generation took {elapsed_s:.2f} s"


@pytest.mark.parametrize("spec", TINY_DIFFUSION)
def test_tiny_form_takes_other_sizes(spec: ModelSpec) -> None:
    pipe = build_pipeline(spec)
    size = 2 * spec.size_rule.multiple_px if spec.size_rule else 64
    params: dict[str, Any] = {"height": size, "width": 2 * size, "steps": spec.min_steps}
    out = _run(spec, pipe, **params)
    assert out.shape[-3:] == (size, 2 * size, 3)


REQUESTS = {
    "wan": [6, 8, 10],
    "cogvideox": [6, 8, 10],
    "mochi": [8, 14, 20],
    "ltx": [10, 16, 18],
    "hunyuanvideo": [6, 8, 10],
    "animatediff": [3, 5],
}


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in TINY_VIDEO])
def test_resolved_frames_are_the_frames_the_pipeline_really_makes(spec: ModelSpec) -> None:
    pipe = build_pipeline(spec)
    for requested in REQUESTS[spec.family]:
        resolved = resolve_params(spec, num_frames=requested, steps=spec.min_steps)
        kwargs = pipeline_call_kwargs(spec, resolved, PROMPT)
        kwargs["num_frames"] = requested  # hand the pipeline the raw request
        produced = _frames(pipe(**kwargs)).shape[1]
        assert produced == resolved.num_frames, (spec.name, requested)


def test_reference_frames_are_the_frames_wanpipeline_really_makes() -> None:
    """With no temporal compression WanPipeline makes n + 1 frames from a request of n;
    resolve_params and pipeline_call_kwargs still deliver exactly the frames resolved."""
    spec = get_model("wan-reference")
    pipe = build_pipeline(spec, "random")
    quick = {"height": 16, "width": 16, "steps": 1, "guidance": 1.0}
    for requested in (1, 2, 5, 8):
        resolved = resolve_params(spec, num_frames=requested, **quick)
        assert resolved.num_frames == requested
        kwargs = pipeline_call_kwargs(spec, resolved, PROMPT)
        assert _frames(pipe(**kwargs)).shape[1] == resolved.num_frames
        kwargs["num_frames"] = requested  # the raw request: the quirk being compensated
        assert _frames(pipe(**kwargs)).shape[1] == requested + 1


def test_reference_random_and_tiny_weights_build_the_same_untrained_model() -> None:
    spec = get_model("wan-reference")
    assert spec_for_weights(spec, "tiny") is spec  # it is its own miniature
    random = build_pipeline(spec, "random")
    tiny = build_pipeline(spec, "tiny")
    assert type(random) is diffusers.WanPipeline
    for comp in spec.components:
        assert type(getattr(random, comp.name)).__name__ == comp.class_name
    assert random.tokenizer.model_max_length == spec.defaults.max_text_tokens
    for (name, a), b in zip(
        random.transformer.state_dict().items(),
        tiny.transformer.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(a, b), name
    out = _run(spec, random, steps=2)
    d = spec.defaults
    assert out.shape == (1, d.num_frames, d.height, d.width, 3)
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0


def test_reference_pretrained_weights_are_the_ones_shipped_in_the_package() -> None:
    from genwatt.models.reference.checkpoint import WEIGHTS_FILE, load_trained

    weights = Path(str(resources.files("genwatt.models.reference") / "weights" / WEIGHTS_FILE))
    if not weights.is_file():
        pytest.skip(f"the trained wan-reference weights are not in this checkout ({weights})")
    spec = get_model("wan-reference")
    with mock.patch.object(
        diffusers.WanPipeline, "from_pretrained", side_effect=AssertionError("the Hub")
    ):
        pipe = build_pipeline(spec, "pretrained")
    shipped = load_trained()
    for part in ("transformer", "text_encoder"):
        ours, theirs = getattr(pipe, part).state_dict(), getattr(shipped, part).state_dict()
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(ours[k], theirs[k]) for k in ours), part
    assert list(pipe.vae.config.latents_std) == list(shipped.vae.config.latents_std)
    assert pipe.transformer.dtype == torch.float32
    out = _run(spec, pipe)
    d = spec.defaults
    assert out.shape == (1, d.num_frames, d.height, d.width, 3)
    assert np.isfinite(out).all()


def test_two_builds_have_identical_weights_and_leave_the_global_rng_alone() -> None:
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = build_pipeline(get_model("wan-tiny"))
    after = torch.rand(1)
    b = build_pipeline(get_model("wan-tiny"))
    assert torch.equal(before, after)
    for (name, pa), pb in zip(
        a.transformer.state_dict().items(), b.transformer.state_dict().values(), strict=True
    ):
        assert torch.equal(pa, pb), name
    assert torch.equal(next(a.text_encoder.parameters()), next(b.text_encoder.parameters()))


def test_tiny_weights_for_a_real_model_build_its_miniature() -> None:
    real = get_model("wan2.1-t2v-14b")
    assert spec_for_weights(real, "tiny").name == "wan-tiny"
    pipe = build_pipeline(real, "tiny")
    assert pipe.transformer.config.num_layers == 2


def test_miniatures_have_no_pretrained_weights_and_text_models_no_pipeline() -> None:
    with pytest.raises(ConfigError, match="--weights tiny"):
        build_pipeline(get_model("wan-tiny"), "pretrained")
    with pytest.raises(ConfigError, match="build_text_model"):
        build_pipeline(get_model("llama-tiny"))
    with pytest.raises(ConfigError, match="build_pipeline"):
        build_text_model(get_model("wan-tiny"))


class _TokenCounter:
    """Counts denoiser calls and the video tokens each one sees."""

    def __init__(self, transformer: torch.nn.Module) -> None:
        self.calls: list[int] = []
        patch = transformer.config.patch_size
        self._per_token = patch[0] * patch[1] * patch[2]
        transformer.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module: torch.nn.Module, args: tuple, kwargs: dict) -> None:
        latents = kwargs["hidden_states"]
        self.calls.append(latents[0, 0].numel() // self._per_token)


@pytest.mark.parametrize(
    ("frames", "size", "tokens"),
    [(5, 32, 2 * 2 * 2), (9, 32, 3 * 2 * 2), (17, 32, 5 * 2 * 2), (17, 64, 5 * 4 * 4)],
)
def test_wan_tiny_token_count_grows_with_frames_and_pixels_like_the_real_model(
    frames: int, size: int, tokens: int
) -> None:
    # Real WAN: (frames - 1) / 4 + 1 latent frames, size / 8 latent pixels, 2x2 patches.
    spec = get_model("wan-tiny")
    pipe = build_pipeline(spec)
    counter = _TokenCounter(pipe.transformer)
    _run(spec, pipe, num_frames=frames, height=size, width=size, steps=2, guidance=5.0)
    assert counter.calls == [tokens] * 4  # 2 steps x (cond + uncond)
    real = resolve_params(get_model("wan2.1-t2v-1.3b"), num_frames=frames, height=size, width=size)
    assert real.latent_frames * (size // 16) ** 2 == tokens


def test_wan_tiny_runs_once_per_step_without_guidance() -> None:
    spec = get_model("wan-tiny")
    pipe = build_pipeline(spec)
    counter = _TokenCounter(pipe.transformer)
    _run(spec, pipe, steps=3, guidance=1.0)
    assert (
        len(counter.calls) == 3 == 3 * resolve_params(spec, guidance=1.0).denoiser_passes_per_step
    )


@pytest.mark.slow
def test_the_wan_tiny_benchmark_sweep_is_fast() -> None:
    """`genwatt bench`: frames x height x width x steps = 24 configs, guidance 5."""
    spec = get_model("wan-tiny")
    pipe = build_pipeline(spec)
    start = time.perf_counter()
    count = 0
    for frames in (5, 9, 17):
        for height in (32, 64):
            for width in (32, 64):
                for steps in (2, 4):
                    out = _run(
                        spec, pipe, num_frames=frames, height=height, width=width, steps=steps
                    )
                    assert out.shape == (1, frames, height, width, 3)
                    count += 1
    elapsed_s = time.perf_counter() - start
    assert count == 24
    assert elapsed_s < 45, f"the sweep took {elapsed_s:.1f} s"


@pytest.mark.parametrize("name", ["qwen2-tiny", "llama-tiny"])
def test_tiny_text_models_generate_exactly_max_new_tokens(name: str) -> None:
    spec = get_model(name)
    model, tokenizer = build_text_model(spec)
    assert type(model) is getattr(transformers, spec.denoiser.class_name)
    params = resolve_params(spec, max_new_tokens=12)
    kwargs = generate_kwargs(spec, params, [PROMPT, "a dog"], tokenizer)
    prompt_tokens = kwargs["input_ids"].shape[1]
    assert kwargs["input_ids"][1, 0] == tokenizer.pad_token_id  # left padding
    out = model.generate(**kwargs)
    assert out.shape == (2, prompt_tokens + 12)
    assert isinstance(tokenizer.decode(out[0, prompt_tokens:]), str)


def test_text_prompts_are_truncated_to_max_text_tokens() -> None:
    spec = get_model("llama-tiny")
    model, tokenizer = build_text_model(spec)
    params = resolve_params(spec, max_text_tokens=4, max_new_tokens=2)
    kwargs = generate_kwargs(spec, params, PROMPT, tokenizer)
    assert kwargs["input_ids"].shape == (1, 4)
    assert model.generate(**kwargs).shape == (1, 6)
