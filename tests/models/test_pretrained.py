"""The pretrained path, with from_pretrained mocked: right repo, right dtype, clear errors.

Nothing here reaches the network; one slow test runs the real loaders in offline mode
against an empty cache, to see the real exception types turn into our message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import diffusers
import pytest
import torch
import transformers
from huggingface_hub.errors import LocalEntryNotFoundError

from genwatt.errors import ConfigError
from genwatt.models import build_pipeline, build_text_model, get_model


def _fake_pipe() -> mock.MagicMock:
    pipe = mock.MagicMock(name="pipeline")
    pipe.to.return_value = pipe
    return pipe


def test_flux_loads_its_repo_in_the_authors_dtype() -> None:
    pipe = _fake_pipe()
    with mock.patch.object(diffusers.FluxPipeline, "from_pretrained", return_value=pipe) as load:
        got = build_pipeline(get_model("FLUX.1-dev"), "pretrained", device="cpu")
    load.assert_called_once_with("black-forest-labs/FLUX.1-dev", torch_dtype=torch.bfloat16)
    pipe.to.assert_called_once_with("cpu")
    pipe.set_progress_bar_config.assert_called_once_with(disable=True)
    assert got is pipe


def test_an_explicit_dtype_wins() -> None:
    with mock.patch.object(
        diffusers.StableDiffusionPipeline, "from_pretrained", return_value=_fake_pipe()
    ) as load:
        build_pipeline(get_model("sd1.5"), "pretrained", dtype="float32")
    load.assert_called_once_with(
        "stable-diffusion-v1-5/stable-diffusion-v1-5", torch_dtype=torch.float32
    )


def test_wan_loads_its_vae_in_float32_and_the_rest_in_bfloat16_like_the_model_card() -> None:
    vae = object()
    wan = diffusers.WanPipeline
    with (
        mock.patch.object(diffusers.AutoencoderKLWan, "from_pretrained", return_value=vae) as v,
        mock.patch.object(wan, "from_pretrained", return_value=_fake_pipe()) as load,
    ):
        build_pipeline(get_model("Wan-AI/Wan2.1-T2V-1.3B-Diffusers"), "pretrained")
    v.assert_called_once_with(
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", subfolder="vae", torch_dtype=torch.float32
    )
    load.assert_called_once_with(
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", torch_dtype=torch.bfloat16, vae=vae
    )


def test_animatediff_loads_the_adapter_and_sd15_and_swaps_the_scheduler() -> None:
    adapter = object()
    with (
        mock.patch.object(diffusers.MotionAdapter, "from_pretrained", return_value=adapter) as ad,
        mock.patch.object(
            diffusers.AnimateDiffPipeline, "from_pretrained", return_value=_fake_pipe()
        ) as load,
    ):
        build_pipeline(get_model("animatediff-v1-5-2"), "pretrained")
    ad.assert_called_once_with(
        "guoyww/animatediff-motion-adapter-v1-5-2", torch_dtype=torch.float16
    )
    args, kwargs = load.call_args
    assert args == ("stable-diffusion-v1-5/stable-diffusion-v1-5",)
    assert kwargs["motion_adapter"] is adapter
    assert kwargs["torch_dtype"] == torch.float16
    scheduler = kwargs["scheduler"]
    assert isinstance(scheduler, diffusers.DDIMScheduler)
    assert scheduler.config.beta_schedule == "linear" and scheduler.config.clip_sample is False


@pytest.mark.parametrize(
    "error",
    [
        OSError("We couldn't connect to 'https://huggingface.co' to load the files"),
        LocalEntryNotFoundError("Cannot find the requested files in the disk cache"),
    ],
)
def test_missing_weights_become_one_clear_config_error(error: Exception) -> None:
    with (
        mock.patch.object(diffusers.AutoencoderKLWan, "from_pretrained", return_value=object()),
        mock.patch.object(diffusers.WanPipeline, "from_pretrained", side_effect=error),
        pytest.raises(ConfigError) as info,
    ):
        build_pipeline(get_model("wan2.1-t2v-14b"), "pretrained")
    message = str(info.value)
    assert "Wan-AI/Wan2.1-T2V-14B-Diffusers" in message
    assert "unreachable" in message and "cache" in message
    assert "--weights random" in message and "--weights tiny" in message
    assert "wan-tiny" in message
    assert "\n" not in message
    assert info.value.__cause__ is error


def test_the_reference_model_loads_from_the_package_never_the_hub() -> None:
    pipe = _fake_pipe()
    with (
        mock.patch("genwatt.models.reference.checkpoint.load_trained", return_value=pipe) as load,
        mock.patch.object(
            diffusers.WanPipeline, "from_pretrained", side_effect=AssertionError("the Hub")
        ),
    ):
        got = build_pipeline(get_model("wan-reference"), "pretrained", device="cpu")
    load.assert_called_once_with()
    pipe.to.assert_called_once_with("cpu")  # built in its own float32: nothing to cast
    pipe.set_progress_bar_config.assert_called_once_with(disable=True)
    assert got is pipe


def test_the_reference_model_in_bfloat16_is_cast_like_a_checkpoint_load() -> None:
    from genwatt.models.reference.pipeline import build_pipeline as build_reference

    with mock.patch(
        "genwatt.models.reference.checkpoint.load_trained", return_value=build_reference()
    ):
        pipe = build_pipeline(get_model("wan-reference"), "pretrained", dtype="bf16")
    block = pipe.transformer.blocks[0]
    assert block.attn1.to_q.weight.dtype == torch.bfloat16
    assert block.norm2.weight.dtype == torch.float32  # _keep_in_fp32_modules, as on load
    assert pipe.text_encoder.shared.weight.dtype == torch.bfloat16


def test_missing_reference_weights_say_how_to_measure_without_them() -> None:
    missing = ConfigError("no trained wan-reference weights at /x/wan-reference.safetensors")
    with (
        mock.patch("genwatt.models.reference.checkpoint.load_trained", side_effect=missing),
        pytest.raises(ConfigError) as info,
    ):
        build_pipeline(get_model("wan-reference"))  # pretrained is its default
    message = str(info.value)
    assert "/x/wan-reference.safetensors" in message and "--weights random" in message
    assert info.value.__cause__ is missing


def test_errors_that_are_not_about_weights_are_not_disguised() -> None:
    bug = RuntimeError("bug")
    with (
        mock.patch.object(diffusers.FluxPipeline, "from_pretrained", side_effect=bug),
        pytest.raises(RuntimeError, match="bug"),
    ):
        build_pipeline(get_model("flux.1-schnell"), "pretrained")


def test_text_models_load_model_and_tokenizer_and_pad_on_the_left() -> None:
    tokenizer = mock.MagicMock(pad_token=None, eos_token="<|eot_id|>")
    model = mock.MagicMock()
    model.to.return_value = model
    model.eval.return_value = model
    with (
        mock.patch.object(transformers.AutoTokenizer, "from_pretrained", return_value=tokenizer),
        mock.patch.object(
            transformers.AutoModelForCausalLM, "from_pretrained", return_value=model
        ) as load,
    ):
        got_model, got_tokenizer = build_text_model(
            get_model("llama-3.1-8b-instruct"), "pretrained"
        )
    load.assert_called_once_with("meta-llama/Llama-3.1-8B-Instruct", dtype=torch.bfloat16)
    assert got_model is model and got_tokenizer is tokenizer
    assert tokenizer.padding_side == "left"
    assert tokenizer.pad_token == "<|eot_id|>"


def test_text_model_without_weights_suggests_the_other_weights() -> None:
    with (
        mock.patch.object(
            transformers.AutoTokenizer, "from_pretrained", side_effect=OSError("offline")
        ),
        pytest.raises(ConfigError, match="qwen2-tiny"),
    ):
        build_text_model(get_model("qwen2.5-0.5b-instruct"), "pretrained")


@pytest.mark.slow
def test_real_loaders_offline_with_an_empty_cache(tmp_path: Path) -> None:
    code = (
        "from genwatt.errors import ConfigError\n"
        "from genwatt.models import build_pipeline, get_model\n"
        "try:\n"
        "    build_pipeline(get_model('sd3-medium'), 'pretrained')\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    raise SystemExit('loaded weights offline?')\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    env.pop("HF_HUB_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "stabilityai/stable-diffusion-3-medium-diffusers" in done.stdout
    assert "--weights random" in done.stdout
