"""The report's view of genwatt.predict: a figure or a reason, never an exception."""

from __future__ import annotations

import types

import pytest

from genwatt.errors import ConfigError
from genwatt.report.predicted import GenwattPredictor, gpu_name

GPU_ENV = {"gpus": [{"index": 0, "name": "NVIDIA A100"}, {"index": 1, "name": "NVIDIA H100"}]}
CONFIG = {"model": "wan2.1-t2v-1.3b", "device": "cuda:1", "num_frames": 9, "steps": 4}


def test_gpu_name_follows_the_device_index() -> None:
    assert gpu_name(CONFIG, GPU_ENV) == "NVIDIA H100"
    assert gpu_name({"device": "cuda"}, GPU_ENV) == "NVIDIA A100"
    assert gpu_name({"device": "cpu"}, GPU_ENV) is None
    assert gpu_name({"device": "cuda"}, {"gpus": []}) is None


def _fake_predictor(predict) -> tuple[GenwattPredictor, list[dict]]:
    calls: list[dict] = []

    def record(model, gpu, **settings):
        calls.append({"model": model, "gpu": gpu, **settings})
        return predict(model, gpu, **settings)

    profile = types.SimpleNamespace(name="h100-sxm")
    predictor = GenwattPredictor(record, lambda name: profile if "H100" in name else None)
    return predictor, calls


def test_a_prediction_is_read_and_cached() -> None:
    result = types.SimpleNamespace(
        energy_gpu_j=100.0,
        latency_s=2.0,
        energy_floor_j=4.0,
        estimate=types.SimpleNamespace(
            energy_by_component_j={"text_encoder": 10.0, "denoise": 80.0, "overhead": 10.0}
        ),
    )
    predictor, calls = _fake_predictor(lambda *a, **k: result)
    lookup = predictor(CONFIG, GPU_ENV)
    assert lookup.reason == "" and lookup.point is not None
    assert (lookup.point.energy_j, lookup.point.latency_s, lookup.point.floor_j) == (100, 2, 4)
    assert lookup.point.phases_j == {"text_encode": 10.0, "denoise": 80.0, "other": 10.0}
    assert predictor(CONFIG, GPU_ENV) is lookup
    assert calls == [
        {"model": CONFIG["model"], "gpu": "h100-sxm", "batch_size": 1, "num_frames": 9, "steps": 4}
    ]


def test_every_refusal_becomes_a_reason() -> None:
    def refuses(*args, **kwargs):
        raise ConfigError("FLOPs unknown for this family")

    predictor, _ = _fake_predictor(refuses)
    assert "FLOPs unknown" in predictor(CONFIG, GPU_ENV).reason
    assert "no hardware profile" in predictor({**CONFIG, "device": "cuda:0"}, GPU_ENV).reason
    assert "did not use a GPU" in predictor({**CONFIG, "device": "cpu"}, GPU_ENV).reason


def test_a_bug_in_the_predictor_is_not_hidden() -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    predictor, _ = _fake_predictor(broken)
    with pytest.raises(RuntimeError, match="a bug"):
        predictor(CONFIG, GPU_ENV)


def test_the_real_predictor_answers_and_names_what_it_cannot_model() -> None:
    lookup = GenwattPredictor()(CONFIG, GPU_ENV)
    assert lookup.reason == "" and lookup.point is not None and lookup.point.energy_j > 0
    unknown = GenwattPredictor()({**CONFIG, "model": "no-such-model"}, GPU_ENV)
    assert unknown.point is None and "the predictor gave no figure" in unknown.reason


def test_gpu_name_maps_cuda_visible_devices_to_nvml_indices() -> None:
    env = {**GPU_ENV, "cuda_visible_devices": "1"}
    assert gpu_name({"device": "cuda:0"}, env) == "NVIDIA H100"
