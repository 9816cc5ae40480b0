"""Diffusion models under a protocol: the settings `genwatt suite` would run, predicted."""

from __future__ import annotations

import json

import pytest

from genwatt.errors import ConfigError
from genwatt.predict.diffusion_protocol import HOST_POWER_W, diffusion_run
from genwatt.predict.predictor import predict
from genwatt.predict.query_energy import FootprintError, predicted_query_energy


def test_ai_energy_score_runs_30_steps_in_fp32_at_the_pipeline_s_guidance() -> None:
    run = diffusion_run("sdxl-turbo", protocol="ai-energy-score")
    assert (run.task, run.steps, run.dtype, run.guidance) == ("text-to-image", 30, "float32", 5.0)
    assert any("model card's 0" in n for n in run.notes)
    base = diffusion_run("sdxl-base-1.0", protocol="ai-energy-score")
    assert base.guidance is None  # its card's 5.0 is the pipeline's
    assert not run.machine_energy


def test_without_a_protocol_the_model_keeps_its_own_settings() -> None:
    run = diffusion_run("sdxl-turbo", task="text-to-image")
    assert (run.steps, run.dtype, run.guidance, run.notes) == (None, None, None, ())


def test_what_a_diffusion_model_under_a_protocol_refuses() -> None:
    with pytest.raises(ConfigError, match="runs text-to-image, not text-to-video"):
        diffusion_run("sdxl-base-1.0", task="text-to-video")
    with pytest.raises(ConfigError, match="not one of the suite's models"):
        diffusion_run("sd-tiny", protocol="ai-energy-score")
    with pytest.raises(ConfigError, match="batch size 1"):
        diffusion_run("sdxl-base-1.0", protocol="ai-energy-score", batch=4)
    with pytest.raises(ConfigError, match="float32"):
        diffusion_run("sdxl-base-1.0", protocol="ai-energy-score", dtype="bfloat16")


def test_fp32_costs_more_than_bf16_and_runs_at_the_fp32_rate() -> None:
    half = predict("sdxl-base-1.0", "h100-sxm", steps=30)
    full = predict("sdxl-base-1.0", "h100-sxm", steps=30, dtype="float32")
    assert full.workload.stages[0].denoiser_precision == "fp32"
    assert full.workload.stages[0].vae_precision == "tf32"  # cuDNN's convolutions
    assert full.latency_s > 2 * half.latency_s
    assert full.energy_gpu_j > 2 * half.energy_gpu_j
    assert full.workload.config["dtype"] == "float32"
    with pytest.raises(ConfigError, match="unknown dtype"):
        predict("sdxl-base-1.0", "h100-sxm", dtype="int8")


def test_genwatt_predict_gives_the_protocol_s_figures_per_1000(genwatt) -> None:
    args = ("--model", "stabilityai/sdxl-turbo", "--protocol", "ai-energy-score", "--json")
    result = genwatt("predict", *args)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    expected = ("text-to-image", "ai-energy-score", "predicted")
    assert (data["task"], data["protocol"], data["provenance"]) == expected
    assert (data["config"]["steps"], data["config"]["guidance"]) == (30, 5.0)
    assert data["energy_gpu_wh_per_1000"] == pytest.approx(data["energy_gpu_wh"] * 1000)
    assert "energy_wh_per_1000" not in data  # a GPU-only protocol
    assert data["extrapolation"] and any("runs in fp32" in w for w in data["warnings"])
    args = ("--model", "sdxl-base-1.0", "--protocol", "power-hungry-processing", "--json")
    php = json.loads(genwatt("predict", *args).stdout)
    host_wh = HOST_POWER_W * php["latency_s"] / 3600
    assert php["energy_wh_per_1000"] == pytest.approx((php["energy_gpu_wh"] + host_wh) * 1000)
    bad = genwatt("predict", "--model", "sdxl-base-1.0", "--harness", "energy-star")
    assert bad.returncode == 2 and "diffusion model" in bad.stderr


def test_footprint_prices_a_diffusion_model_under_a_protocol() -> None:
    gpu = predicted_query_energy("sdxl-turbo", protocol="ai-energy-score")
    assert gpu.scope == "gpu" and gpu.settings["steps"] == 30
    assert any("model card's 0" in n for n in gpu.notes)
    # FP32: outside the bf16 fit's cross-validated error, so no range is claimed.
    assert gpu.low_j is None and gpu.high_j is None
    assert "covers no fp32 run" in gpu.range_note
    assert any("runs in fp32" in n for n in gpu.notes)
    own = predicted_query_energy("sdxl-turbo", task="text-to-image")  # bf16, as fitted
    assert own.low_j is not None and own.low_j < own.energy_j < own.high_j
    machine = predicted_query_energy(
        "sdxl-turbo", protocol="power-hungry-processing", scope="machine"
    )
    assert machine.scope == "machine"
    assert (
        machine.energy_j
        > predicted_query_energy("sdxl-turbo", protocol="power-hungry-processing").energy_j
    )
    with pytest.raises(FootprintError, match="whole-machine --protocol"):
        predicted_query_energy("sdxl-turbo", protocol="ai-energy-score", scope="machine")
