"""Whole-generation FLOPs: the published WAN figure, and the rules a pipeline applies
(guidance, batch, steps, negative prompts, frame rounding), as properties.

All closed form: no torch, microseconds per call.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genwatt.errors import ConfigError
from genwatt.flops import PARTS, ForwardFlops, generation_flops
from genwatt.flops.decoder_lm import decode, decode_step
from genwatt.models import get_model, list_models, resolve_params
from genwatt.models.spec import ModelSpec

REAL = list_models(include_tiny=False)
DIFFUSION = [s for s in REAL if s.task != "text"]
VIDEO = [s for s in REAL if s.task == "t2v"]
CFG = [s for s in DIFFUSION if s.guidance_kind == "cfg"]


def test_wan_1_3b_forward_is_283_tflops_and_71_percent_attention() -> None:
    """The issue's figure: 81 frames at 480x832 with 512 text tokens."""
    spec = get_model("wan2.1-t2v-1.3b")
    params = resolve_params(spec, num_frames=81, height=480, width=832, max_text_tokens=512)
    forward = generation_flops(spec, params).denoiser_forward
    assert forward.total == pytest.approx(283e12, rel=0.005)
    assert forward.attention_share == pytest.approx(0.71, abs=0.005)
    assert forward.tokens == 21 * 30 * 52


@pytest.mark.parametrize("spec", DIFFUSION, ids=lambda s: s.name)
def test_parts_add_up_and_phases_add_up(spec: ModelSpec) -> None:
    g = generation_flops(spec, resolve_params(spec))
    for forward in (g.denoiser_forward, g.vae_decoder, *g.text_encoder_forwards.values()):
        assert isinstance(forward, ForwardFlops)
        assert set(forward.by_part) <= set(PARTS)
        assert sum(forward.by_part.values()) == pytest.approx(forward.total)
        # wan-reference's PatchCodec decodes by reshaping alone: no products.
        assert forward.total > 0 or (forward is g.vae_decoder and spec.name == "wan-reference")
    assert g.total == pytest.approx(g.text_encoder + g.denoise + g.vae_decode)
    per_step = g.passes_per_step * g.denoiser_forward.total
    if spec.family == "mochi":  # its unconditional pass attends over fewer text tokens
        assert g.steps * g.denoiser_forward.total < g.denoise < g.steps * per_step
    else:
        assert g.denoise == pytest.approx(g.steps * per_step)


@pytest.mark.parametrize("spec", CFG, ids=lambda s: s.name)
def test_guidance_doubles_the_denoiser_flops(spec: ModelSpec) -> None:
    with_cfg = generation_flops(spec, resolve_params(spec, guidance=5.0))
    without = generation_flops(spec, resolve_params(spec, guidance=1.0))
    assert with_cfg.passes_per_step == 2 and without.passes_per_step == 1
    if spec.family == "mochi":
        # The empty negative prompt attends over 1 text token instead of 256.
        assert 1.98 < with_cfg.denoise / without.denoise < 2.0
    else:
        assert with_cfg.denoise == pytest.approx(2 * without.denoise)
    assert with_cfg.vae_decode == without.vae_decode


@pytest.mark.parametrize("spec", [s for s in DIFFUSION if s.guidance_kind != "cfg"])
def test_distilled_guidance_costs_one_pass(spec: ModelSpec) -> None:
    g = generation_flops(spec, resolve_params(spec, guidance=7.0))
    assert g.passes_per_step == 1
    assert g.denoise == pytest.approx(g.steps * g.denoiser_forward.total)


@pytest.mark.parametrize("spec", REAL, ids=lambda s: s.name)
def test_batch_scales_every_phase_linearly(spec: ModelSpec) -> None:
    params = resolve_params(spec)
    one, three = generation_flops(spec, params), generation_flops(spec, params, batch_size=3)
    for phase in ("text_encoder", "denoise", "vae_decode", "total", "prefill", "decode"):
        assert getattr(three, phase) == pytest.approx(3 * getattr(one, phase))
    assert three.denoiser_forward == one.denoiser_forward  # per sample


def test_negative_prompts_are_encoded_as_the_pipelines_do() -> None:
    for name in ("wan2.1-t2v-1.3b", "sd1.5", "sd3-medium", "cogvideox-5b"):
        spec = get_model(name)
        cfg = generation_flops(spec, resolve_params(spec, guidance=5.0)).text_encoder
        plain = generation_flops(spec, resolve_params(spec, guidance=1.0)).text_encoder
        assert cfg == pytest.approx(2 * plain), name
    # SDXL feeds zeros for an empty negative prompt (force_zeros_for_empty_prompt).
    spec = get_model("sdxl-base-1.0")
    cfg = generation_flops(spec, resolve_params(spec, guidance=5.0))
    assert (
        cfg.text_encoder == generation_flops(spec, resolve_params(spec, guidance=1.0)).text_encoder
    )
    assert any("zeros" in note for note in cfg.notes)


def test_steps_are_the_schedulers_own() -> None:
    sd = get_model("sd1.5")  # PNDM (skip_prk_steps) repeats one timestep
    assert generation_flops(sd, resolve_params(sd, steps=50)).steps == 51
    assert generation_flops(sd, resolve_params(sd, steps=1)).steps == 1
    for spec in DIFFUSION:
        if spec.scheduler is not None and spec.scheduler.class_name != "PNDMScheduler":
            assert generation_flops(spec, resolve_params(spec, steps=7)).steps == 7


def test_hunyuan_encodes_the_prompt_template_and_sd3_joins_clip_and_t5() -> None:
    spec = get_model("hunyuanvideo")
    g = generation_flops(spec, resolve_params(spec, max_text_tokens=128))
    assert g.text_encoder_forwards["text_encoder"].tokens == 128 + 95
    assert g.text_encoder_forwards["text_encoder_2"].tokens == 77
    sd3 = get_model("sd3-medium")
    g = generation_flops(sd3, resolve_params(sd3, max_text_tokens=128))
    assert g.text_encoder_forwards["text_encoder_3"].tokens == 128


@settings(max_examples=60, deadline=None)
@given(
    spec=st.sampled_from(VIDEO),
    frames=st.integers(1, 200),
    more=st.integers(0, 60),
)
def test_flops_never_decrease_with_more_frames(spec: ModelSpec, frames: int, more: int) -> None:
    limit = spec.frame_rule.max_frames if spec.frame_rule else None
    if limit is not None:
        frames, more = min(frames, limit), min(more, limit - min(frames, limit))
    low = generation_flops(spec, resolve_params(spec, num_frames=frames))
    high = generation_flops(spec, resolve_params(spec, num_frames=frames + more))
    for phase in ("denoise", "vae_decode", "total"):
        assert getattr(low, phase) <= getattr(high, phase)


@settings(max_examples=40, deadline=None)
@given(prompt=st.integers(1, 4000), new=st.integers(1, 300))
def test_decode_sums_its_steps(prompt: int, new: int) -> None:
    config = get_model("llama-3.1-8b-instruct").denoiser.config
    explicit = sum(decode_step(config, prompt + k).total for k in range(1, new))
    assert decode(config, prompt, new).total == pytest.approx(explicit, rel=1e-12)


def test_text_generation_has_prefill_and_decode() -> None:
    spec = get_model("llama-3.1-8b-instruct")
    g = generation_flops(spec, resolve_params(spec, max_text_tokens=512, max_new_tokens=256))
    assert g.text_encoder == 0 and g.vae_decode == 0 and g.vae_decoder is None
    assert g.steps == 255 and g.denoise == g.decode
    assert g.total == pytest.approx(g.prefill + g.decode)
    assert g.denoise == pytest.approx(g.steps * g.denoiser_forward.total)
    assert g.prefill_forward is not None and g.prefill_forward.tokens == 512
    # About 2 x 8B parameters per token, less the embedding table (a lookup).
    assert 2 * 7.0e9 * 512 < g.prefill < 2 * 8.0e9 * 512 * 1.1


def test_to_dict_is_json_ready_with_the_cli_keys() -> None:
    spec = get_model("flux.1-dev")
    d = generation_flops(spec, resolve_params(spec)).to_dict()
    assert {"text_encoder", "denoise", "vae_decode", "total"} <= set(d)
    assert json.loads(json.dumps(d)) == d


def test_user_errors_are_config_errors() -> None:
    wan, sd = get_model("wan2.1-t2v-1.3b"), get_model("sd1.5")
    with pytest.raises(ConfigError, match="resolved for"):
        generation_flops(wan, resolve_params(sd))
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="batch_size"):
            generation_flops(wan, resolve_params(wan), batch_size=bad)  # type: ignore[arg-type]


def test_the_reference_model_decodes_for_free_and_denoises_tokens_of_8x8_pixels() -> None:
    spec = get_model("wan-reference")
    params = resolve_params(spec, num_frames=9, height=64, width=48)
    g = generation_flops(spec, params)
    assert g.vae_decode == 0 and g.vae_decoder is not None and g.vae_decoder.total == 0
    # No temporal compression; 4 px per latent pixel, 2x2 latent pixels per token.
    assert g.denoiser_forward.tokens == 9 * (64 // 8) * (48 // 8)
    assert g.steps == 30 and g.passes_per_step == 2
    assert g.text_encoder_forwards["text_encoder"].tokens == 8
    assert g.total == pytest.approx(g.text_encoder + g.denoise)


def test_tiny_forms_have_closed_forms_too() -> None:
    for spec in list_models():
        if spec.is_tiny:
            assert generation_flops(spec, resolve_params(spec)).total > 0


def test_closed_forms_import_no_torch() -> None:
    code = (
        "import sys; from genwatt.flops import generation_flops; "
        "from genwatt.models import get_model, resolve_params; "
        "s = get_model('hunyuanvideo'); generation_flops(s, resolve_params(s)); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
