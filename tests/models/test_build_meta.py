"""Every real-size component builds on the meta device, fast, at its published size.

``params`` in a spec is the exact count of its config (a regression guard: any edit to a
config shows up here); ``published_params`` is what the authors state, which is what
catches a config that is wrong in the first place.
"""

from __future__ import annotations

import time

import pytest
import torch

from genwatt.errors import ConfigError
from genwatt.models import build_component, get_model, list_models
from genwatt.models.components import component_class
from genwatt.models.spec import ComponentSpec, ModelSpec

# Published figures are rounded ("1.3B" for 1.42B, "2B" for CogVideoX's 1.69B).
PUBLISHED_TOLERANCE = 0.2

REAL_COMPONENTS = [
    pytest.param(spec, comp, id=f"{spec.name}/{comp.name}")
    for spec in list_models(include_tiny=False)
    for comp in spec.components
]


@pytest.fixture(scope="module", autouse=True)
def _import_once() -> None:
    """Pay the (lazy) diffusers, transformers and genwatt imports once, outside the
    timed builds."""
    for spec in list_models():
        for comp in spec.components:
            component_class(comp)


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(("spec", "comp"), REAL_COMPONENTS)
def test_real_component_builds_on_meta_at_its_size(spec: ModelSpec, comp: ComponentSpec) -> None:
    start = time.perf_counter()
    module = build_component(spec, comp.name, "random", "meta")
    elapsed_s = time.perf_counter() - start

    assert type(module).__name__ == comp.class_name
    assert all(p.device.type == "meta" for p in module.parameters())
    n = _count(module)
    assert comp.params is not None, "real components record their exact size"
    assert n == comp.params
    if comp.published_params is not None:
        assert abs(n / comp.published_params - 1) <= PUBLISHED_TOLERANCE, (n, comp.published_params)
    assert elapsed_s < 10, f"meta build took {elapsed_s:.1f} s"


def test_every_real_denoiser_and_text_encoder_has_a_published_size() -> None:
    for spec in list_models(include_tiny=False):
        if spec.pretrained_loader is not None:
            continue  # genwatt's own model: checked against its own build below
        for comp in spec.components:
            if comp.role in ("denoiser", "lm", "text_encoder"):
                assert comp.published_params and comp.published_source, f"{spec.name}/{comp.name}"


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("wan2.1-t2v-1.3b", 1.3e9, 1.6e9),
        ("wan2.1-t2v-14b", 13.5e9, 15e9),
        ("cogvideox-2b", 1.6e9, 1.8e9),
        ("cogvideox-5b", 5e9, 6e9),
        ("mochi-1-preview", 9.5e9, 10.5e9),
        ("ltx-video", 1.8e9, 2.1e9),
        ("hunyuanvideo", 12.5e9, 13.5e9),
        ("sd1.5", 0.85e9, 0.87e9),
        ("sd2.1", 0.86e9, 0.87e9),
        ("sd-turbo", 0.86e9, 0.87e9),
        ("sdxl-base-1.0", 2.5e9, 2.65e9),
        ("sdxl-turbo", 2.5e9, 2.65e9),
        ("sd3-medium", 1.95e9, 2.1e9),
        ("flux.1-dev", 11.5e9, 12.5e9),
        ("qwen2.5-0.5b-instruct", 0.45e9, 0.55e9),
        ("llama-3.1-8b-instruct", 7.9e9, 8.1e9),
    ],
)
def test_denoiser_sizes_match_the_headline_figures(name: str, low: float, high: float) -> None:
    spec = get_model(name)
    assert low <= _count(build_component(spec, spec.denoiser.name)) <= high


def test_the_reference_spec_counts_the_parameters_of_the_model_it_describes() -> None:
    """wan-reference has no outside publication: its figures are those of its own build."""
    from genwatt.models.reference.pipeline import build_pipeline

    pipe = build_pipeline()
    spec = get_model("wan-reference")
    for comp in spec.components:
        module = getattr(pipe, comp.name)
        assert type(module).__name__ == comp.class_name
        assert _count(module) == comp.params, comp.name


def test_the_reference_size_and_frame_caps_are_where_its_rotary_table_ends() -> None:
    """64 rotary positions per axis: 64 latent frames, 64 x 2 latent pixels = 512 px."""
    spec = get_model("wan-reference")
    assert spec.size_rule is not None and spec.frame_rule is not None
    module = build_component(spec, "transformer", "random", "meta")
    frames, pixels = spec.frame_rule.max_frames, spec.size_rule.max_px
    assert (frames, pixels) == (64, 512)
    text = torch.empty(1, spec.defaults.max_text_tokens, 64, device="meta")
    step = torch.zeros(1, device="meta")

    def call(f: int, h: int, w: int) -> None:
        latent = torch.empty(1, 48, f, h // 4, w // 4, device="meta")
        module(latent, step, text, return_dict=False)

    call(frames, pixels, pixels)
    for too_big in ((frames + 1, 16, 16), (1, pixels + 16, 16), (1, 16, pixels + 16)):
        with pytest.raises(RuntimeError):
            call(*too_big)


def test_the_14b_transformer_has_the_documented_shape() -> None:
    module = build_component(get_model("wan2.1-t2v-14b"), "transformer")
    assert len(module.blocks) == 40
    assert module.blocks[0].attn1.to_q.weight.shape == (5120, 5120)
    assert module.blocks[0].ffn.net[0].proj.weight.shape == (13824, 5120)
    assert module.patch_embedding.weight.shape == (5120, 16, 1, 2, 2)


def test_meta_builds_take_the_authors_dtype_and_keep_fp32_modules_like_from_pretrained() -> None:
    module = build_component(get_model("wan2.1-t2v-1.3b"), "transformer")
    assert module.blocks[0].attn1.to_q.weight.dtype == torch.bfloat16
    # WanTransformer3DModel._keep_in_fp32_modules: norms, time embedder, scale-shift tables.
    assert module.blocks[0].norm2.weight.dtype == torch.float32
    assert module.blocks[0].scale_shift_table.dtype == torch.float32
    assert module.condition_embedder.time_embedder.linear_1.weight.dtype == torch.float32
    vae = build_component(get_model("wan2.1-t2v-1.3b"), "vae")
    assert next(vae.parameters()).dtype == torch.float32  # the model card's fp32 VAE


def test_transformers_fp32_modules_only_under_float16() -> None:
    spec = get_model("cogvideox-2b")  # float16 model: T5's "wo" stays in float32
    t5 = build_component(spec, "text_encoder")
    assert t5.encoder.block[0].layer[1].DenseReluDense.wo.weight.dtype == torch.float32
    assert t5.encoder.block[0].layer[0].SelfAttention.q.weight.dtype == torch.float16
    t5_bf16 = build_component(get_model("cogvideox-5b"), "text_encoder")
    assert t5_bf16.encoder.block[0].layer[1].DenseReluDense.wo.weight.dtype == torch.bfloat16


def test_an_explicit_dtype_overrides_the_authors_choice() -> None:
    spec = get_model("sd1.5")
    assert next(build_component(spec, "unet", dtype="float32").parameters()).dtype == torch.float32
    with pytest.raises(ConfigError, match="dtype"):
        build_component(spec, "unet", dtype="float12")


def test_unknown_component_and_weights_are_config_errors() -> None:
    spec = get_model("sd1.5")
    with pytest.raises(ConfigError, match="unet, vae, text_encoder"):
        build_component(spec, "transformer")
    with pytest.raises(ConfigError, match="pretrained"):
        build_component(spec, "unet", weights="pretrained")
    with pytest.raises(ConfigError, match="random, tiny"):
        build_component(spec, "unet", weights="zeros")


def test_tiny_weights_of_a_real_spec_build_its_miniature() -> None:
    module = build_component(get_model("wan2.1-t2v-14b"), "transformer", weights="tiny")
    assert _count(module) == get_model("wan-tiny").denoiser.params


@pytest.mark.slow
def test_random_weights_on_a_real_device_are_allocated_seeded_and_cast() -> None:
    spec = get_model("sd1.5")
    module = build_component(spec, "text_encoder", "random", "cpu")
    weight = module.get_input_embeddings().weight
    assert weight.device.type == "cpu" and weight.dtype == torch.float16
    assert _count(module) == spec.component("text_encoder").params
    assert torch.isfinite(weight).all() and weight.float().std() > 0
    assert not module.training and not weight.requires_grad
