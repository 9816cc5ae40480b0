"""Predictions for the suite's models: settings, protocols, physics, and honest errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from genwatt.errors import ConfigError
from genwatt.predict.task_predictor import predict_task

SST2 = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"


def test_a_prediction_is_labelled_and_carries_its_band() -> None:
    p = predict_task(SST2, "h100-sxm")
    d = p.to_dict()
    assert d["provenance"] == "predicted" and d["task"] == "text-classification"
    assert d["energy_gpu_j"] > 0 and d["latency_s"] > 0 and d["flops"] > 0
    assert d["energy_gpu_wh_per_1000"] == pytest.approx(d["energy_gpu_j"] / 3.6)
    assert d["energy_floor_j"] < d["energy_gpu_j"]  # nothing beats the physical floor
    assert 0 < p.error_low_frac < 1 and p.error_high_frac > 0
    assert "a100" in p.band_source  # carried over: the band says where it comes from
    json.dumps(d)


def test_protocols_fix_precision_and_the_energy_basis() -> None:
    aies = predict_task("openai-community/gpt2", "h100-sxm", protocol="ai-energy-score")
    assert aies.dtype == "float16"
    assert "energy_wh_per_1000" not in aies.to_dict()  # AI Energy Score scores the GPU only
    assert predict_task(SST2, "h100-sxm", protocol="ai-energy-score").dtype == "float32"
    php = predict_task(SST2, "a100-sxm-80gb", protocol="power-hungry-processing")
    assert php.to_dict()["energy_wh_per_1000"] > php.to_dict()["energy_gpu_wh_per_1000"]


def test_more_work_costs_more() -> None:
    short = predict_task("openai-community/gpt2", "h100-sxm", input_tokens=32, new_tokens=5)
    longer = predict_task("openai-community/gpt2", "h100-sxm", input_tokens=512, new_tokens=5)
    more = predict_task("openai-community/gpt2", "h100-sxm", input_tokens=32, new_tokens=40)
    assert longer.energy_gpu_j > short.energy_gpu_j
    assert more.energy_gpu_j > 4 * short.energy_gpu_j  # decoding is one step per token


def test_batching_amortises_the_launch_bound_forward_not_the_per_query_host_work() -> None:
    one = predict_task(SST2, "h100-sxm", batch=1)
    batched = predict_task(SST2, "h100-sxm", batch=32)
    forward = [p.estimate["latency_by_phase_s"]["forward"] / p.batch for p in (one, batched)]
    host = [p.estimate["latency_by_phase_s"]["host"] / p.batch for p in (one, batched)]
    assert forward[1] < forward[0] / 2  # one launch sequence serves 32 queries
    assert host[1] == pytest.approx(host[0])  # tokenising runs per query whatever the batch
    assert batched.energy_gpu_j < one.energy_gpu_j


def test_at_batch_one_a_small_llm_costs_about_as_much_as_one_ten_times_larger() -> None:
    small = predict_task("HuggingFaceTB/SmolLM-135M", "h100-sxm")
    large = predict_task("HuggingFaceTB/SmolLM-1.7B", "h100-sxm")
    assert large.compute["total"]["flops"] > 10 * small.compute["total"]["flops"]
    assert large.energy_gpu_j < 2 * small.energy_gpu_j  # launches, not arithmetic


def test_bad_requests_get_one_clear_line() -> None:
    with pytest.raises(ConfigError, match="diffusion"):
        predict_task("stabilityai/sdxl-turbo", "h100-sxm")
    with pytest.raises(ConfigError, match="does not run"):
        predict_task(SST2, "h100-sxm", task="summarization")
    with pytest.raises(ConfigError, match="batch size 1"):
        predict_task(SST2, "h100-sxm", protocol="ai-energy-score", batch=8)


@pytest.mark.slow
def test_the_cli_predicts_a_suite_model(tmp_path: Path) -> None:
    genwatt = Path(sys.executable).with_name("genwatt")
    run = subprocess.run(
        [str(genwatt), "predict", "--model", SST2, "--protocol", "ai-energy-score", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["protocol"] == "ai-energy-score" and data["energy_gpu_wh_per_1000"] > 0
    wrong = subprocess.run(
        [str(genwatt), "predict", "--model", SST2, "--frames", "9"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert wrong.returncode == 2 and "not a diffusion model" in " ".join(wrong.stderr.split())


def test_a_counted_query_is_cached_on_disk_and_read_back_identical(
    private_cache_dir: Path,
) -> None:
    first = predict_task("openai-community/gpt2", "h100-sxm", input_tokens=77, new_tokens=3)
    cached = list(private_cache_dir.rglob("*.json"))
    assert cached
    again = predict_task("openai-community/gpt2", "h100-sxm", input_tokens=77, new_tokens=3)
    assert again.compute == first.compute and again.energy_gpu_j == first.energy_gpu_j
    for path in cached:
        path.write_text("{not json")  # a damaged cache entry is counted again, not trusted
    third = predict_task("openai-community/gpt2", "h100-sxm", input_tokens=77, new_tokens=3)
    assert third.compute == first.compute


def test_ai_energy_score_predicts_the_typical_query_of_its_own_datasets() -> None:
    aies = predict_task("google/vit-base-patch16-224", "h100-sxm", protocol="ai-energy-score")
    php = predict_task(
        "google/vit-base-patch16-224", "h100-sxm", protocol="power-hungry-processing"
    )
    assert "Food-101" in " ".join(aies.notes) and "CIFAR-10" in " ".join(php.notes)
    aies_hw, php_hw = aies.settings["image_hw"], php.settings["image_hw"]
    assert aies_hw[0] * aies_hw[1] > php_hw[0] * php_hw[1]  # Food-101 and Beans, not CIFAR
    given = predict_task(
        "google/vit-base-patch16-224",
        "h100-sxm",
        protocol="ai-energy-score",
        image_hw=(224, 224),
    )
    assert list(given.settings["image_hw"]) == [224, 224]
    assert any("the sizes given" in n for n in given.notes)
