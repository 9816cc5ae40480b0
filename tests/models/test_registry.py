"""Name lookup, registry contents, and the promise that listing models stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

from genwatt.errors import ConfigError
from genwatt.models import get_model, list_models
from genwatt.models.spec import WEIGHTS, ComponentSpec

REQUIRED = {
    "wan2.1-t2v-1.3b": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
    "wan2.1-t2v-14b": "Wan-AI/Wan2.1-T2V-14B-Diffusers",
    "cogvideox-2b": "THUDM/CogVideoX-2b",
    "cogvideox-5b": "THUDM/CogVideoX-5b",
    "mochi-1-preview": "genmo/mochi-1-preview",
    "ltx-video": "Lightricks/LTX-Video",
    "hunyuanvideo": "hunyuanvideo-community/HunyuanVideo",
    "animatediff-v1-5-2": "guoyww/animatediff-motion-adapter-v1-5-2",
    "sd1.5": "stable-diffusion-v1-5/stable-diffusion-v1-5",
    "sd2.1": "stabilityai/stable-diffusion-2-1",
    "sd-turbo": "stabilityai/sd-turbo",
    "sdxl-base-1.0": "stabilityai/stable-diffusion-xl-base-1.0",
    "sdxl-turbo": "stabilityai/sdxl-turbo",
    "sd3-medium": "stabilityai/stable-diffusion-3-medium-diffusers",
    "flux.1-dev": "black-forest-labs/FLUX.1-dev",
    "flux.1-schnell": "black-forest-labs/FLUX.1-schnell",
    "qwen2.5-0.5b-instruct": "Qwen/Qwen2.5-0.5B-Instruct",
    "llama-3.1-8b-instruct": "meta-llama/Llama-3.1-8B-Instruct",
}

TINY = {
    "wan-tiny": "wan",
    "cogvideox-tiny": "cogvideox",
    "mochi-tiny": "mochi",
    "ltx-tiny": "ltx",
    "hunyuanvideo-tiny": "hunyuanvideo",
    "animatediff-tiny": "animatediff",
    "sd-tiny": "sd",
    "sd2-tiny": "sd2",
    "sdxl-tiny": "sdxl",
    "sd3-tiny": "sd3",
    "flux-tiny": "flux",
    "qwen2-tiny": "qwen2",
    "llama-tiny": "llama",
}


@pytest.mark.parametrize(("name", "repo"), REQUIRED.items())
def test_real_models_are_found_by_name_and_by_repo_id(name: str, repo: str) -> None:
    spec = get_model(name)
    assert spec.name == name
    assert spec.repo_id == repo
    assert get_model(repo) is spec
    assert get_model(repo.upper()) is spec
    assert get_model(f"  {name.upper()} ") is spec
    assert spec.default_weights == "pretrained"


@pytest.mark.parametrize(("name", "family"), TINY.items())
def test_tiny_forms_default_to_tiny_weights(name: str, family: str) -> None:
    spec = get_model(name)
    assert spec.is_tiny
    assert spec.default_weights == "tiny"
    assert spec.family == family
    assert spec.repo_id is None
    assert spec.tiny_name == name


def test_every_real_model_names_a_tiny_form_of_its_own_family_and_class() -> None:
    for spec in list_models(include_tiny=False):
        if spec.tiny_name == spec.name:
            # Only genwatt's own miniature (wan-reference) is its own tiny form.
            assert spec.pretrained_loader is not None, spec.name
            continue
        tiny = get_model(spec.tiny_name)
        assert tiny.is_tiny
        assert tiny.family == spec.family, spec.name
        assert tiny.task == spec.task
        assert tiny.pipeline_class == spec.pipeline_class
        # The miniature keeps the architecture: same classes, component for component.
        assert {c.name: c.class_name for c in tiny.components} == {
            c.name: c.class_name for c in spec.components
        }, spec.name


def test_list_models_puts_real_models_first_and_filters_by_task() -> None:
    specs = list_models()
    names = [s.name for s in specs]
    assert set(REQUIRED) | set(TINY) <= set(names)
    assert len(names) == len(set(names))
    first_tiny = next(i for i, s in enumerate(specs) if s.is_tiny)
    assert all(s.is_tiny for s in specs[first_tiny:])
    assert {s.task for s in list_models("t2i")} == {"t2i"}
    assert not any(s.is_tiny for s in list_models(include_tiny=False))
    assert {s.family for s in list_models("t2v")} >= {
        "wan", "cogvideox", "mochi", "ltx", "hunyuanvideo", "animatediff",
    }  # fmt: skip


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(ConfigError) as info:
        get_model("wan2.1-t2v-1.3")
    message = str(info.value)
    assert "wan2.1-t2v-1.3b" in message
    assert "genwatt models" in message


def test_unknown_name_without_any_close_match_still_says_where_to_look() -> None:
    with pytest.raises(ConfigError, match="genwatt models") as info:
        get_model("zzzzzzzzzzzz")
    assert "Did you mean" not in str(info.value)


def test_close_matches_are_shown_as_written_not_lower_cased() -> None:
    with pytest.raises(ConfigError) as info:
        get_model("Wan-AI/Wan2.1-T2V-14B-Diffuser")
    assert "Wan-AI/Wan2.1-T2V-14B-Diffusers" in str(info.value)


def test_every_component_and_scheduler_cites_its_source() -> None:
    for spec in list_models():
        for comp in spec.components:
            assert comp.source, f"{spec.name}/{comp.name}"
            if spec.pretrained_loader is not None:  # shipped with genwatt: cites its module
                assert "genwatt.models.reference" in comp.source, comp.source
            elif not spec.is_tiny:
                assert spec.repo_id and ("config.json" in comp.source), comp.source
        if spec.scheduler is not None:
            assert spec.scheduler.source
        assert spec.defaults.source or spec.is_tiny, spec.name


def test_specs_cannot_be_edited_through_their_configs() -> None:
    spec = get_model("wan2.1-t2v-1.3b")
    with pytest.raises(TypeError):
        spec.denoiser.config["num_layers"] = 1  # type: ignore[index]
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]


def test_weights_kinds() -> None:
    assert WEIGHTS == ("pretrained", "random", "tiny")


def test_listing_models_imports_no_torch() -> None:
    code = (
        "import sys, genwatt.models as m\n"
        "[s.summary() for s in m.list_models()]\n"
        "m.resolve_params(m.get_model('wan2.1-t2v-14b'), num_frames=50)\n"
        "heavy = {'torch', 'diffusers', 'transformers', 'tokenizers'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        # the registry never imports the mitigation layer.
        "assert 'genwatt.mitigate' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_reference_model_is_a_real_wan_model_with_packaged_weights() -> None:
    spec = get_model("WAN-Reference")
    assert spec.name == "wan-reference" and spec.task == "t2v" and spec.family == "wan"
    assert spec.pipeline_class == "WanPipeline"
    assert spec.default_weights == "pretrained" and not spec.is_tiny
    assert spec.repo_id is None and spec.has_pretrained  # never the Hub
    assert spec.pretrained_loader == "genwatt.models.reference.checkpoint:load_trained"
    assert spec.tiny_name == spec.name  # already a miniature
    assert spec in list_models("t2v", include_tiny=False)
    assert {c.name: c.class_name for c in spec.components} == {
        "transformer": "WanTransformer3DModel",
        "vae": "PatchCodec",
        "text_encoder": "UMT5EncoderModel",
    }
    summary = spec.summary()
    assert summary["denoiser_params"] == 3_828_160
    assert summary["components"]["vae"]["params"] == 0
    assert summary["pretrained_loader"] == spec.pretrained_loader


def test_the_reference_spec_restates_the_reference_module_exactly() -> None:
    """The registry copies the configs to stay light; here the copy meets the original."""
    from genwatt.models.reference import architecture as reference

    spec = get_model(reference.NAME)
    assert dict(spec.component("transformer").config) == reference.TRANSFORMER_CONFIG
    assert dict(spec.component("text_encoder").config) == reference.TEXT_ENCODER_CONFIG
    assert spec.component("text_encoder").config["vocab_size"] == len(reference.VOCABULARY)
    codec = spec.component("vae")
    assert codec.library == "genwatt" and codec.module == "genwatt.models.reference.codec"
    assert codec.config["patch_px"] == reference.PATCH_PX
    assert spec.scheduler is not None
    assert dict(spec.scheduler.config) == reference.SCHEDULER_CONFIG
    d, ref = spec.defaults, reference.DEFAULTS
    assert (d.height, d.width, d.num_frames, d.steps, d.guidance) == (
        ref.height, ref.width, ref.frames, ref.steps, ref.guidance,
    )  # fmt: skip
    assert d.max_text_tokens == spec.max_text_tokens_limit == reference.MAX_TEXT_TOKENS
    (tokenizer,) = spec.tokenizers
    assert tokenizer.model_max_length == reference.MAX_TEXT_TOKENS


def test_genwatt_components_must_say_where_their_class_lives() -> None:
    with pytest.raises(ValueError, match="module"):
        ComponentSpec("vae", "vae", "genwatt", "PatchCodec", {}, "here")
    with pytest.raises(ValueError, match="module"):
        ComponentSpec("vae", "vae", "diffusers", "AutoencoderKL", {}, "here", module="x")
