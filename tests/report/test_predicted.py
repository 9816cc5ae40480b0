"""The report's view of genwatt.predict: a figure or a reason, never an exception."""

from __future__ import annotations

import types

import pytest

from genwatt.report import predicted
from genwatt.report.predicted import GenwattPredictor, gpu_name

GPU_ENV = {"gpus": [{"index": 0, "name": "NVIDIA A100"}, {"index": 1, "name": "NVIDIA H100"}]}
CONFIG = {"model": "wan2.1-t2v-1.3b", "device": "cuda:1", "num_frames": 9, "steps": 4}


def test_gpu_name_follows_the_device_index() -> None:
    assert gpu_name(CONFIG, GPU_ENV) == "NVIDIA H100"
    assert gpu_name({"device": "cuda"}, GPU_ENV) == "NVIDIA A100"
    assert gpu_name({"device": "cpu"}, GPU_ENV) is None
    assert gpu_name({"device": "cuda"}, {"gpus": []}) is None


def _fake_modules(monkeypatch: pytest.MonkeyPatch, predict) -> list[dict]:
    calls: list[dict] = []

    def record(model, gpu, **settings):
        calls.append({"model": model, "gpu": gpu, **settings})
        return predict(model, gpu, **settings)

    profile = types.SimpleNamespace(name="h100-sxm")
    modules = {
        "genwatt.predict": types.SimpleNamespace(predict=record),
        "genwatt.predict.hardware": types.SimpleNamespace(
            profile_for_device=lambda name: profile if "H100" in name else None
        ),
    }
    monkeypatch.setattr(predicted.importlib, "import_module", lambda name: modules[name])
    return calls


def test_a_prediction_is_read_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    result = types.SimpleNamespace(
        energy_gpu_j=100.0,
        latency_s=2.0,
        energy_floor_j=4.0,
        estimate=types.SimpleNamespace(
            energy_by_component_j={"text_encoder": 10.0, "denoise": 80.0, "overhead": 10.0}
        ),
    )
    calls = _fake_modules(monkeypatch, lambda *a, **k: result)
    predictor = GenwattPredictor()
    lookup = predictor(CONFIG, GPU_ENV)
    assert lookup.reason == "" and lookup.point is not None
    assert (lookup.point.energy_j, lookup.point.latency_s, lookup.point.floor_j) == (100, 2, 4)
    assert lookup.point.phases_j == {"text_encode": 10.0, "denoise": 80.0, "other": 10.0}
    assert predictor(CONFIG, GPU_ENV) is lookup
    assert calls == [
        {"model": CONFIG["model"], "gpu": "h100-sxm", "batch_size": 1, "num_frames": 9, "steps": 4}
    ]


def test_every_failure_becomes_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("FLOPs unknown for this family")

    _fake_modules(monkeypatch, broken)
    predictor = GenwattPredictor()
    assert "FLOPs unknown" in predictor(CONFIG, GPU_ENV).reason
    assert "no hardware profile" in predictor({**CONFIG, "device": "cuda:0"}, GPU_ENV).reason
    assert "did not use a GPU" in predictor({**CONFIG, "device": "cpu"}, GPU_ENV).reason


def test_a_missing_predictor_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name):
        raise ModuleNotFoundError(f"No module named {name!r}")

    monkeypatch.setattr(predicted.importlib, "import_module", missing)
    lookup = GenwattPredictor()(CONFIG, GPU_ENV)
    assert lookup.point is None and "not available" in lookup.reason


def test_gpu_name_maps_cuda_visible_devices_to_nvml_indices() -> None:
    env = {**GPU_ENV, "cuda_visible_devices": "1"}
    assert gpu_name({"device": "cuda:0"}, env) == "NVIDIA H100"
