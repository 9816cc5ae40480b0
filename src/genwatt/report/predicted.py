"""Predictions for stored configurations, when genwatt's predictor can give one.

The predictor (``genwatt.predict``, pure Python and quick to import) cannot answer for
every stored run: it may not know the model, have no profile for the GPU, or model only
GPUs. A report must still be written then, so every lookup returns either a
``PredictedPoint`` or the reason there is none, which the report shows next to the "—"
it prints instead. Only what the predictor refuses on purpose (``ConfigError``: an
unknown model or GPU, a setting it cannot model, a missing calibration) becomes such a
reason; any other exception is a bug and is left to surface.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from genwatt.errors import ConfigError
from genwatt.predict.hardware import HardwareProfile, profile_for_device
from genwatt.predict.predictor import Prediction, predict

# The predictor's components, named as the report's phases are (``genwatt.meter.phases``).
_COMPONENT_PHASES = {
    "text_encoder": "text_encode",
    "denoise": "denoise",
    "vae_decode": "vae_decode",
    "overhead": "other",
}
_SETTINGS = ("num_frames", "height", "width", "steps", "guidance", "max_text_tokens")


@dataclass(frozen=True)
class PredictedPoint:
    """One generation's predicted GPU energy and latency, and the physical floor.

    ``floor_j`` is the least energy any run of the workload's FLOPs can take (every
    FLOP at peak rate, drawing exactly TDP); None when the predictor does not say.
    """

    energy_j: float
    latency_s: float
    floor_j: float | None
    gpu: str
    phases_j: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Lookup:
    """A prediction, or why there is none (``reason`` is empty when there is one)."""

    point: PredictedPoint | None
    reason: str = ""


# (config, environment) -> Lookup; tests pass their own.
Predictor = Callable[[Mapping[str, Any], Mapping[str, Any]], Lookup]


def gpu_name(config: Mapping[str, Any], environment: Mapping[str, Any]) -> str | None:
    """The NVML name of the GPU a run used, from its device and environment; None for CPU.

    torch numbers the devices CUDA_VISIBLE_DEVICES leaves visible, NVML all of them, so
    ``cuda:1`` under ``CUDA_VISIBLE_DEVICES=2,3`` is NVML's GPU 3.
    """
    device = str(config.get("device") or "")
    if not device.startswith("cuda"):
        return None
    gpus = [g for g in environment.get("gpus") or [] if isinstance(g, Mapping)]
    _, _, number = device.partition(":")
    index = int(number) if number.isdigit() else 0
    visible = str(environment.get("cuda_visible_devices") or "").split(",")
    if all(v.strip().isdigit() for v in visible) and index < len(visible):
        index = int(visible[index])
    chosen = next((g for g in gpus if g.get("index") == index), gpus[0] if gpus else None)
    name = chosen.get("name") if chosen else None
    return str(name) if name else None


def no_predictor(config: Mapping[str, Any], environment: Mapping[str, Any]) -> Lookup:
    """A predictor that never predicts: for reports that must not show predictions."""
    return Lookup(None, "predictions were turned off for this report")


class GenwattPredictor:
    """Looks configurations up in ``genwatt.predict``, once each (lookups are cached).

    ``predict_function`` and ``find_profile`` are ``genwatt.predict``'s own unless a test
    passes stand-ins.
    """

    def __init__(
        self,
        predict_function: Callable[..., Prediction] = predict,
        find_profile: Callable[[str], HardwareProfile | None] = profile_for_device,
    ) -> None:
        self._cache: dict[tuple[Any, ...], Lookup] = {}
        self._predict = predict_function
        self._find_profile = find_profile

    def __call__(self, config: Mapping[str, Any], environment: Mapping[str, Any]) -> Lookup:
        gpu = gpu_name(config, environment)
        key = (config.get("model"), gpu, *(config.get(s) for s in _SETTINGS))
        key += (config.get("batch_size") or 1,)
        if key not in self._cache:
            self._cache[key] = self._lookup(config, gpu)
        return self._cache[key]

    def _lookup(self, config: Mapping[str, Any], gpu: str | None) -> Lookup:
        model = config.get("model")
        if not model:
            return Lookup(None, "the run names no model")
        if gpu is None:
            return Lookup(
                None,
                "these runs did not use a GPU; the predictor and its physical floor model GPUs",
            )
        profile = self._find_profile(gpu)
        if profile is None:
            return Lookup(None, f"the predictor has no hardware profile for {gpu!r}")
        settings = {s: config.get(s) for s in _SETTINGS if config.get(s) is not None}
        try:
            prediction = self._predict(
                str(model), profile.name, batch_size=int(config.get("batch_size") or 1), **settings
            )
        except ConfigError as exc:  # an unknown model or GPU, a setting it cannot model
            return Lookup(None, f"the predictor gave no figure: {exc}")
        return Lookup(_point(prediction, gpu))


def _point(prediction: Prediction, gpu: str) -> PredictedPoint:
    """A prediction as the report draws it: its phases named as the report's are."""
    floor = prediction.energy_floor_j
    components = prediction.estimate.energy_by_component_j
    return PredictedPoint(
        energy_j=float(prediction.energy_gpu_j),
        latency_s=float(prediction.latency_s),
        floor_j=float(floor) if floor > 0 else None,
        gpu=gpu,
        phases_j={_COMPONENT_PHASES.get(k, k): float(v) for k, v in dict(components).items()},
    )
