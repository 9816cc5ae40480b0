"""One answer, for predict and footprint alike, to which predictor covers a name."""

from __future__ import annotations

import json

import pytest

from genwatt.errors import ConfigError
from genwatt.predict.predictor import predict
from genwatt.predict.route import predictor_route


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # In the sweep registry (for `genwatt sweep`) and the suite's text generators.
        ("meta-llama/Llama-3.1-8B-Instruct", ("task", "meta-llama/Llama-3.1-8B-Instruct")),
        ("llama-3.1-8b-instruct", ("task", "meta-llama/Llama-3.1-8B-Instruct")),
        ("qwen2.5-0.5b-instruct", ("task", "Qwen/Qwen2.5-0.5B-Instruct")),
        ("google-bert/bert-base-uncased", ("task", "google-bert/bert-base-uncased")),
        # The suite's text-to-image entry points at the diffusion registry.
        ("stabilityai/stable-diffusion-xl-base-1.0", ("diffusion", "sdxl-base-1.0")),
        ("wan2.1-t2v-1.3b", ("diffusion", "wan2.1-t2v-1.3b")),
        ("sd-tiny", ("diffusion", "sd-tiny")),  # only the diffusion registry knows it
    ],
)
def test_each_name_goes_to_the_predictor_that_covers_it(name: str, expected: tuple) -> None:
    assert predictor_route(name) == expected


def test_an_unknown_name_gets_the_suite_s_suggestions() -> None:
    with pytest.raises(ConfigError, match="Did you mean: google-bert/bert-base-uncased"):
        predictor_route("bert-base-uncase")


def test_genwatt_predict_takes_a_text_model_the_sweep_registry_also_knows(genwatt) -> None:
    result = genwatt("predict", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["task"], data["provenance"]) == ("text-generation", "predicted")
    assert data["energy_gpu_wh_per_1000"] > 0


def test_the_diffusion_predictor_points_a_text_model_to_the_task_predictor() -> None:
    with pytest.raises(ConfigError, match="genwatt predict --model meta-llama"):
        predict("llama-3.1-8b-instruct", "h100-sxm")
