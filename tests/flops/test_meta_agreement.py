"""The closed forms against FlopCounterMode on the real modules, built on meta.

Every registered real model, at three or more generation settings each (frames, sizes,
text tokens and guidance varied), for every component the pipeline calls: the denoiser
(one call, CFG batching included), each text encoder, the VAE decode, and for language
models the prefill and single decode steps. The issue asks for agreement within 1 %;
the formulas count the same operations as the counter, so they agree to rounding.

A meta forward costs about a second per model whatever the size: it is one Python
dispatch per operation, and FlopCounterMode decomposes each one. So the first setting
counts the registered denoiser as it is, and the others count the same config with
its repeated blocks cut to two (widths, heads and block types unchanged); the closed
form is evaluated on that same config. ``GENWATT_FULL_META=1`` counts every setting
at full depth (about three minutes).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest

from genwatt.flops import component_call_flops, count_on_meta
from genwatt.flops.decoder_lm import decode_step
from genwatt.flops.meta_count import count_decode_step_on_meta
from genwatt.flops.shapes import encoder_tokens
from genwatt.models import get_model, list_models, resolve_params
from genwatt.models.spec import ModelSpec

REL_TOL = 0.01  # the bound

# Three or more settings per real diffusion model; the first is the model's defaults.
SETTINGS: dict[str, list[dict[str, Any]]] = {
    "wan2.1-t2v-1.3b": [
        {},
        {"num_frames": 33, "height": 256, "width": 448, "max_text_tokens": 128},
        {"num_frames": 17, "height": 720, "width": 1280, "guidance": 1.0},
    ],
    # genwatt's own: 48 latent channels (4x4 pixel patches), no temporal compression.
    "wan-reference": [
        {},
        {"num_frames": 9, "height": 64, "width": 48, "max_text_tokens": 6},
        {"num_frames": 1, "height": 16, "width": 32, "guidance": 1.0},
    ],
    "wan2.1-t2v-14b": [
        {},
        {"num_frames": 49, "height": 480, "width": 832, "max_text_tokens": 256},
        {"num_frames": 5, "height": 256, "width": 256, "guidance": 1.0},
    ],
    "cogvideox-2b": [
        {},
        {"num_frames": 25, "height": 320, "width": 480},
        {"num_frames": 13, "height": 256, "width": 256, "guidance": 1.0},
    ],
    "cogvideox-5b": [
        {},
        {"num_frames": 33, "height": 480, "width": 720},
        {"num_frames": 9, "height": 256, "width": 384},
    ],
    "mochi-1-preview": [
        {},
        {"num_frames": 31, "height": 256, "width": 448, "max_text_tokens": 128},
        {"num_frames": 7, "height": 128, "width": 128, "guidance": 1.0, "max_text_tokens": 64},
    ],
    "ltx-video": [
        {},
        {"num_frames": 65, "height": 256, "width": 384, "max_text_tokens": 64},
        {"num_frames": 9, "height": 512, "width": 768, "guidance": 1.0, "max_text_tokens": 256},
    ],
    "hunyuanvideo": [
        {},
        {"num_frames": 33, "height": 320, "width": 512, "max_text_tokens": 128},
        {"num_frames": 1, "height": 544, "width": 960, "max_text_tokens": 64},
    ],
    "animatediff-v1-5-2": [
        {},
        {"num_frames": 24, "height": 256, "width": 384},
        {"num_frames": 8, "height": 512, "width": 768, "guidance": 1.0},
    ],
    "sd1.5": [{}, {"height": 520, "width": 776}, {"height": 768, "width": 768, "guidance": 1.0}],
    "sd2.1": [{}, {"height": 512, "width": 776}, {"height": 1024, "width": 576, "guidance": 1.0}],
    "sd-turbo": [{}, {"height": 768, "width": 512, "guidance": 7.5}, {"height": 256, "width": 392}],
    "sdxl-turbo": [
        {},
        {"height": 1024, "width": 1024, "guidance": 5.0},
        {"height": 512, "width": 904},
    ],
    "sdxl-base-1.0": [
        {},
        {"height": 1000, "width": 520},
        {"height": 768, "width": 1344, "guidance": 1.0},
    ],
    "sd3-medium": [
        {},
        {"height": 512, "width": 768, "max_text_tokens": 77},
        {"height": 1536, "width": 1536, "guidance": 1.0, "max_text_tokens": 512},
    ],
    "flux.1-dev": [
        {},
        {"height": 768, "width": 1360, "max_text_tokens": 256},
        {"height": 512, "width": 512, "max_text_tokens": 77},
    ],
    "flux.1-schnell": [
        {},
        {"height": 1024, "width": 768, "max_text_tokens": 512},
        {"height": 256, "width": 256, "max_text_tokens": 128},
    ],
}
PROMPT_TOKENS: dict[str, list[int]] = {
    "qwen2.5-0.5b-instruct": [512, 64, 2048],
    "llama-3.1-8b-instruct": [512, 128, 1000],
}


FULL_DEPTH = os.environ.get("GENWATT_FULL_META") == "1"
# The config keys that repeat a block, per denoiser class.
DEPTH_KEYS = {
    "WanTransformer3DModel": ("num_layers",),
    "CogVideoXTransformer3DModel": ("num_layers",),
    "MochiTransformer3DModel": ("num_layers",),
    "LTXVideoTransformer3DModel": ("num_layers",),
    "HunyuanVideoTransformer3DModel": ("num_layers", "num_single_layers"),
    "SD3Transformer2DModel": ("num_layers",),
    "FluxTransformer2DModel": ("num_layers", "num_single_layers"),
}


def _shallow(spec: ModelSpec) -> ModelSpec:
    """``spec`` with the denoiser's repeated blocks cut to two (SDXL: its transformer
    stacks of 10 cut to 2); everything else as registered."""
    comp = spec.denoiser
    config = dict(comp.config)
    for key in DEPTH_KEYS.get(comp.class_name, ()):
        config[key] = min(config[key], 2)
    if isinstance(config.get("transformer_layers_per_block"), list):
        config["transformer_layers_per_block"] = [
            min(n, 2) for n in config["transformer_layers_per_block"]
        ]
    shallow = dataclasses.replace(comp, config=config)
    components = tuple(shallow if c.name == comp.name else c for c in spec.components)
    return dataclasses.replace(spec, components=components)


def _spec(name: str, setting: int, component: str) -> ModelSpec:
    spec = get_model(name)
    full = FULL_DEPTH or setting == 0 or component != spec.denoiser.name
    return spec if full else _shallow(spec)


def _cases() -> list[Any]:
    """(model, settings, component), grouped by model so that each is built once.

    Denoisers at every setting. Text encoders and VAEs are shared between models (T5-XXL
    by five), so each distinct one is counted at two prompt lengths (text encoders) or
    once, at its model's smallest setting (VAEs: a real-size video decode loops over
    its frames and takes seconds on meta; the tiny pipeline tests decode other sizes).
    """
    cases: list[Any] = []
    seen: dict[Any, int] = {}
    for name, settings in SETTINGS.items():
        spec = get_model(name)
        for i, kwargs in enumerate(settings):
            params = resolve_params(spec, **kwargs)
            for comp in spec.components:
                if comp.role == "adapter" or (comp.role == "vae" and i != len(settings) - 1):
                    continue
                structure = (comp.class_name, repr({**comp.config, "scaling_factor": None}))
                if comp.role == "text_encoder":
                    lengths = {k[2] for k in seen if k[:2] == structure}
                    key: Any = (*structure, encoder_tokens(spec, params, comp))
                    if key in seen or len(lengths) >= 2:
                        continue
                elif comp.role == "vae":
                    key = structure
                else:
                    key = (name, i)
                if key in seen:
                    continue
                seen[key] = i
                case_id = f"{spec.family}/{name}/setting{i}/{comp.name}"
                cases.append(pytest.param(name, i, comp.name, id=case_id))
    return cases


def _rel(closed: float, counted: float) -> float:
    return abs(closed / counted - 1.0)


def test_every_real_model_has_three_settings() -> None:
    real = {s.name for s in list_models(include_tiny=False)}
    covered = {n for n, s in SETTINGS.items() if len(s) >= 3}
    covered |= {n for n, s in PROMPT_TOKENS.items() if len(s) >= 3}
    assert real == covered


@pytest.mark.parametrize(("name", "setting", "component"), _cases())
def test_closed_form_matches_the_meta_count(name: str, setting: int, component: str) -> None:
    spec = _spec(name, setting, component)
    params = resolve_params(spec, **SETTINGS[name][setting])
    closed = component_call_flops(spec, params, component)
    counted = count_on_meta(spec, params, component)
    if spec.component(component).class_name == "PatchCodec":
        assert closed == counted == 0  # wan-reference's codec only reshapes
        return
    assert counted > 0
    assert _rel(closed, counted) <= REL_TOL, (closed, counted)


@pytest.mark.parametrize(
    ("name", "prompt_tokens"),
    [(n, p) for n, tokens in PROMPT_TOKENS.items() for p in tokens],
)
def test_language_model_prefill_matches_the_meta_count(name: str, prompt_tokens: int) -> None:
    spec = get_model(name)
    params = resolve_params(spec, max_text_tokens=prompt_tokens)
    prefill = component_call_flops(spec, params, "model")
    assert _rel(prefill, count_on_meta(spec, params, "model")) <= REL_TOL


@pytest.mark.parametrize("name", list(PROMPT_TOKENS))
def test_language_model_decode_step_matches_the_meta_count(name: str) -> None:
    spec = get_model(name)
    context = PROMPT_TOKENS[name][0] + 17
    step = decode_step(spec.denoiser.config, context).total
    assert _rel(step, count_decode_step_on_meta(spec, context)) <= REL_TOL


@pytest.mark.parametrize(
    ("name", "component"),
    [
        ("wan2.1-t2v-1.3b", "transformer"),  # CFG as two calls: batch 2 per call
        ("mochi-1-preview", "transformer"),  # batched CFG, per-sample text masks
        ("sd3-medium", "text_encoder_3"),
    ],
)
def test_a_batch_counts_like_the_closed_form(name: str, component: str) -> None:
    spec = _spec(name, len(SETTINGS[name]) - 1, component)
    params = resolve_params(spec, **SETTINGS[name][-1])
    closed = component_call_flops(spec, params, component, batch_size=2)
    counted = count_on_meta(spec, params, component, batch_size=2)
    assert _rel(closed, counted) <= REL_TOL
    assert closed == pytest.approx(2 * component_call_flops(spec, params, component))
