"""resolve_params and pipeline_call_kwargs: defaults, rounding, refusals, and mapping.

That the rounding matches what the installed pipelines really do is checked end to end
in test_tiny_generate.py; here are the rules and the messages.
"""

from __future__ import annotations

import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genwatt.errors import ConfigError
from genwatt.models import (
    ResolvedParams,
    get_model,
    list_models,
    pipeline_call_kwargs,
    resolve_params,
)
from genwatt.models.spec import ModelSpec

WAN = get_model("wan2.1-t2v-1.3b")


def test_defaults_come_from_the_spec_and_nothing_is_recorded_as_requested() -> None:
    p = resolve_params(WAN)
    assert (p.height, p.width, p.num_frames, p.steps, p.guidance) == (480, 832, 81, 50, 5.0)
    assert p.max_text_tokens == 512
    assert p.latent_frames == 21
    assert p.requested_height is None and p.requested_num_frames is None
    assert p.notes == ()
    assert p.model == WAN.name and p.task == "t2v"


def test_requested_values_are_kept_next_to_the_effective_ones() -> None:
    p = resolve_params(WAN, height=320, width=512, num_frames=50, steps=10, guidance=1.0)
    assert (p.requested_height, p.requested_width, p.requested_num_frames) == (320, 512, 50)
    assert (p.height, p.width, p.num_frames, p.steps) == (320, 512, 49, 10)
    assert p.requested_steps == 10 and p.requested_guidance == 1.0


@pytest.mark.parametrize(
    ("requested", "expected"),
    [(81, 81), (80, 81), (82, 81), (79, 77), (8, 9), (6, 5), (5, 5), (1, 1), (2, 1), (4, 5)],
)
def test_wan_rounds_frames_like_wanpipeline(requested: int, expected: int) -> None:
    # WanPipeline: if num_frames % 4 != 1: num_frames = num_frames // 4 * 4 + 1
    p = resolve_params(WAN, num_frames=requested)
    assert p.num_frames == expected
    assert p.latent_frames == (expected - 1) // 4 + 1
    assert bool(p.notes) == (requested != expected)
    if p.notes:
        assert "WanPipeline" in p.notes[0] and str(expected) in p.notes[0]


@pytest.mark.parametrize(
    ("model", "requested", "expected", "latent"),
    [
        ("cogvideox-5b", 49, 49, 13),
        ("cogvideox-5b", 50, 49, 13),
        # The CogVideoX VAE decodes latents in pairs: an even latent count gives 4L frames.
        ("cogvideox-5b", 8, 8, 2),
        ("cogvideox-5b", 6, 8, 2),
        ("cogvideox-5b", 53, 56, 14),
        ("cogvideox-2b", 1, 1, 1),
        ("mochi-1-preview", 163, 163, 28),
        ("mochi-1-preview", 84, 79, 14),
        ("ltx-video", 161, 161, 21),
        ("ltx-video", 100, 97, 13),
        ("hunyuanvideo", 129, 129, 33),
        ("hunyuanvideo", 60, 57, 15),
        ("animatediff-v1-5-2", 7, 7, 7),
    ],
)
def test_latent_frame_arithmetic_of_the_other_video_pipelines(
    model: str, requested: int, expected: int, latent: int
) -> None:
    p = resolve_params(get_model(model), num_frames=requested)
    assert (p.num_frames, p.latent_frames) == (expected, latent)
    assert bool(p.notes) == (requested != expected)


REFERENCE = get_model("wan-reference")


@given(st.integers(min_value=1, max_value=64))
def test_the_reference_model_runs_the_frames_asked_for_by_asking_its_pipeline_one_fewer(
    n: int,
) -> None:
    # WanPipeline with no temporal compression turns a request n into n + 1 frames
    # (n % 1 != 1, so n // 1 * 1 + 1); genwatt asks for n - 1. Checked against the real
    # pipeline in test_tiny_generate.py.
    p = resolve_params(REFERENCE, num_frames=n)
    assert (p.num_frames, p.latent_frames, p.notes) == (n, n, ())
    assert pipeline_call_kwargs(REFERENCE, p, "a red circle")["num_frames"] == n - 1
    assert REFERENCE.frame_rule is not None
    assert REFERENCE.frame_rule.pipeline_request(n) == n - 1
    assert REFERENCE.frame_rule.frames_from_latent(n) == n


def test_every_other_frame_rule_hands_the_pipeline_the_resolved_count() -> None:
    for spec in list_models("t2v"):
        if spec is REFERENCE:
            continue
        p = resolve_params(spec)
        assert pipeline_call_kwargs(spec, p, "a cat")["num_frames"] == p.num_frames, spec.name


def test_the_reference_model_has_its_rotary_and_prompt_limits() -> None:
    with pytest.raises(ConfigError, match="at most 64") as info:
        resolve_params(REFERENCE, num_frames=65)
    assert "rotary" in str(info.value)
    assert resolve_params(REFERENCE, height=512, width=16).height == 512
    with pytest.raises(ConfigError, match="at most 512"):
        resolve_params(REFERENCE, height=528)
    with pytest.raises(ConfigError, match="Nearest valid: 16 or 32"):
        resolve_params(REFERENCE, width=24)
    assert resolve_params(REFERENCE, max_text_tokens=4).max_text_tokens == 4
    with pytest.raises(ConfigError, match="at most 8"):
        resolve_params(REFERENCE, max_text_tokens=9)


@given(st.integers(min_value=1, max_value=400))
def test_wan_frames_are_always_4k_plus_1_near_the_request(n: int) -> None:
    p = resolve_params(WAN, num_frames=n)
    assert p.num_frames is not None and p.latent_frames is not None
    assert p.num_frames % 4 == 1
    assert abs(p.num_frames - n) <= 3
    assert p.latent_frames == (p.num_frames - 1) // 4 + 1


@given(st.integers(min_value=1, max_value=300), st.integers(min_value=0, max_value=40))
def test_more_frames_never_mean_fewer_latent_frames(n: int, extra: int) -> None:
    for name in ("wan2.1-t2v-1.3b", "cogvideox-5b", "mochi-1-preview", "ltx-video"):
        spec = get_model(name)
        assert (
            resolve_params(spec, num_frames=n).latent_frames
            <= resolve_params(spec, num_frames=n + extra).latent_frames
        )


VIDEO_MODELS = list_models("t2v")


@given(st.integers(min_value=1, max_value=200), st.sampled_from(VIDEO_MODELS))
def test_resolving_the_effective_frames_again_changes_nothing(n: int, spec: ModelSpec) -> None:
    """A runner re-resolves stored effective values: that must be a fixed point."""
    assert spec.frame_rule is not None
    n = min(n, spec.frame_rule.max_frames or n)
    first = resolve_params(spec, num_frames=n)
    again = resolve_params(spec, num_frames=first.num_frames)
    assert (again.num_frames, again.latent_frames) == (first.num_frames, first.latent_frames)
    assert again.notes == ()


@pytest.mark.parametrize(
    ("model", "size", "nearest"),
    [
        ("wan2.1-t2v-1.3b", 500, "496 or 512"),
        ("wan2.1-t2v-1.3b", 8, "16"),
        ("ltx-video", 48, "32 or 64"),
        ("cogvideox-2b", 488, "480 or 496"),
        ("sd1.5", 513, "512 or 520"),
        ("flux.1-dev", 1000, "992 or 1008"),
    ],
)
def test_sizes_the_model_cannot_take_name_the_nearest_valid_ones(
    model: str, size: int, nearest: str
) -> None:
    spec = get_model(model)
    with pytest.raises(ConfigError, match=f"Nearest valid: {nearest}"):
        resolve_params(spec, height=size)
    with pytest.raises(ConfigError, match="width"):
        resolve_params(spec, width=size)


@pytest.mark.parametrize("bad", [0, -16, 12.5, "512", True, None])
def test_non_positive_or_non_integer_sizes_are_refused(bad: object) -> None:
    if bad is None:
        assert resolve_params(WAN, height=bad).height == 480  # None means default
        return
    with pytest.raises(ConfigError, match="height"):
        resolve_params(WAN, height=bad)  # type: ignore[arg-type]


def test_integral_floats_from_a_yaml_file_are_accepted() -> None:
    assert resolve_params(WAN, height=320.0).height == 320  # type: ignore[arg-type]


# (model, setting, a value it accepts, one past its limit, what the refusal says)
LIMITS = [
    ("sd3-medium", "height", 3072, 3088, "at most 3072"),  # its position table
    ("animatediff-v1-5-2", "num_frames", 32, 33, "at most 32"),  # its motion positions
    ("sdxl-base-1.0", "max_text_tokens", 77, 128, "77"),  # CLIP-only: always 77 tokens
    ("wan2.1-t2v-1.3b", "max_text_tokens", 226, 1024, "at most 512"),
    *[  # schedules that break at one step
        (model, "steps", 2, 1, "at least 2 steps")
        for model in ("mochi-1-preview", "ltx-video", "mochi-tiny", "ltx-tiny")
    ],
]


@pytest.mark.parametrize(("model", "setting", "accepted", "refused", "message"), LIMITS)
def test_a_setting_past_the_models_limit_is_refused(
    model: str, setting: str, accepted: int, refused: int, message: str
) -> None:
    spec = get_model(model)
    assert getattr(resolve_params(spec, **{setting: accepted}), setting) == accepted
    with pytest.raises(ConfigError, match=message):
        resolve_params(spec, **{setting: refused})


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_frames_and_steps_must_be_positive_integers(bad: object) -> None:
    with pytest.raises(ConfigError, match="num_frames"):
        resolve_params(WAN, num_frames=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="steps"):
        resolve_params(WAN, steps=bad)  # type: ignore[arg-type]


def test_negative_guidance_is_refused() -> None:
    with pytest.raises(ConfigError, match="guidance"):
        resolve_params(WAN, guidance=-1)


def test_image_models_refuse_num_frames_and_text_models_refuse_pixels() -> None:
    for spec in list_models("t2i"):
        with pytest.raises(ConfigError, match="num_frames"):
            resolve_params(spec, num_frames=16)
        assert resolve_params(spec).num_frames is None
    for spec in list_models("text"):
        with pytest.raises(ConfigError, match="height"):
            resolve_params(spec, height=512)
        with pytest.raises(ConfigError, match="steps"):
            resolve_params(spec, steps=4)
    with pytest.raises(ConfigError, match="max_new_tokens"):
        resolve_params(WAN, max_new_tokens=10)


def test_text_models_resolve_token_budgets() -> None:
    spec = get_model("llama-3.1-8b-instruct")
    p = resolve_params(spec)
    assert (p.max_new_tokens, p.max_text_tokens, p.height, p.steps) == (256, 512, None, None)
    p = resolve_params(spec, max_new_tokens=32, max_text_tokens=1000)
    assert (p.max_new_tokens, p.max_text_tokens) == (32, 1000)
    with pytest.raises(ConfigError, match="max_new_tokens"):
        resolve_params(spec, max_new_tokens=0)


@pytest.mark.parametrize(
    ("model", "guidance", "passes"),
    [
        ("wan2.1-t2v-1.3b", 5.0, 2),
        ("wan2.1-t2v-1.3b", 1.0, 1),  # the pipelines skip the uncond pass at guidance <= 1
        ("sd1.5", 7.5, 2),
        ("sd2.1", 7.5, 2),
        ("sd-turbo", 0.0, 1),  # the turbo cards' guidance 0: no unconditional pass
        ("sdxl-turbo", 0.0, 1),
        ("sdxl-turbo", 5.0, 2),  # a plain SDXL pipeline: guidance > 1 still runs CFG
        ("flux.1-dev", 3.5, 1),  # guidance-distilled: one pass
        ("hunyuanvideo", 6.0, 1),
        ("flux.1-schnell", 0.0, 1),
    ],
)
def test_denoiser_passes_per_step(model: str, guidance: float, passes: int) -> None:
    assert resolve_params(get_model(model), guidance=guidance).denoiser_passes_per_step == passes


def test_guidance_on_a_model_that_ignores_it_leaves_a_note() -> None:
    p = resolve_params(get_model("flux.1-schnell"), guidance=3.5)
    assert any("ignores guidance" in n for n in p.notes)


def test_call_kwargs_for_a_t5_video_pipeline() -> None:
    p = resolve_params(WAN, num_frames=50)
    kwargs = pipeline_call_kwargs(WAN, p, "a cat", None, negative_prompt="blurry")
    assert kwargs == {
        "prompt": "a cat",
        "negative_prompt": "blurry",
        "height": 480,
        "width": 832,
        "num_frames": 49,
        "num_inference_steps": 50,
        "guidance_scale": 5.0,
        "max_sequence_length": 512,
        "generator": None,
        "output_type": "np",
    }


def test_call_kwargs_for_clip_image_pipelines_have_no_frames_or_sequence_length() -> None:
    spec = get_model("sdxl-base-1.0")
    kwargs = pipeline_call_kwargs(spec, resolve_params(spec), "a cat", output_type="latent")
    assert "num_frames" not in kwargs and "max_sequence_length" not in kwargs
    assert kwargs["output_type"] == "latent"
    assert kwargs["height"] == kwargs["width"] == 1024


def test_call_kwargs_refuse_params_resolved_for_another_model() -> None:
    p = resolve_params(get_model("wan2.1-t2v-14b"))
    with pytest.raises(ConfigError, match=r"wan2\.1-t2v-14b"):
        pipeline_call_kwargs(WAN, p, "a cat")


def test_text_models_use_generate_kwargs_instead() -> None:
    spec = get_model("qwen2-tiny")
    with pytest.raises(ConfigError, match="generate_kwargs"):
        pipeline_call_kwargs(spec, resolve_params(spec), "hi")


def test_every_registered_model_resolves_its_own_defaults_without_notes() -> None:
    for spec in list_models():
        assert resolve_params(spec).notes == (), spec.name


def test_the_parameter_names_are_resolve_params_keywords() -> None:
    keywords = [name for name in inspect.signature(resolve_params).parameters if name != "spec"]
    assert sorted(ResolvedParams.parameter_names()) == sorted(keywords)


def test_requested_and_effective_settings() -> None:
    p = resolve_params(WAN, num_frames=50, steps=10, batch_size=2)
    assert p.requested_settings() == {"num_frames": 50, "steps": 10, "batch_size": 2}
    effective = p.effective_settings()
    assert list(effective) == [
        "num_frames",
        "latent_frames",
        "height",
        "width",
        "steps",
        "guidance",
        "max_text_tokens",
        "max_new_tokens",
        "batch_size",
    ]
    assert (effective["num_frames"], effective["steps"], effective["batch_size"]) == (49, 10, 2)
    assert resolve_params(WAN).batch_size == 1


@pytest.mark.parametrize("batch", [0, -3, 1.5])
def test_a_batch_size_below_one_or_fractional_is_refused(batch: object) -> None:
    with pytest.raises(ConfigError, match="batch_size"):
        resolve_params(WAN, batch_size=batch)


def test_a_single_prompt_is_repeated_for_the_batch() -> None:
    p = resolve_params(WAN, batch_size=3)
    assert pipeline_call_kwargs(WAN, p, "a cat")["prompt"] == ["a cat"] * 3
    assert pipeline_call_kwargs(WAN, p, ["a", "b"])["prompt"] == ["a", "b"]
