"""Predictions for stored configurations, when genwatt's predictor can give one.

The predictor (``genwatt.predict``) is optional from the report's point of view: it may
be missing from an installation, not know a model, or model only GPUs. A report must
still be written then, so every lookup returns either a ``PredictedPoint`` or the
reason there is none, which the report shows next to the "—" it prints instead.

``genwatt.predict`` is imported lazily, on the first lookup, and every failure of it is
caught: a young or broken predictor must cost the report its predicted curves, never
the report itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    """Looks configurations up in ``genwatt.predict``, once each (lookups are cached)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, ...], Lookup] = {}
        self._module: Any = None
        self._import_error: str | None = None

    def __call__(self, config: Mapping[str, Any], environment: Mapping[str, Any]) -> Lookup:
        gpu = gpu_name(config, environment)
        key = (config.get("model"), gpu, *(config.get(s) for s in _SETTINGS))
        key += (config.get("batch_size") or 1,)
        if key not in self._cache:
            self._cache[key] = self._lookup(config, gpu)
        return self._cache[key]

    def _predict_function(self) -> Callable[..., Any] | None:
        if self._module is None and self._import_error is None:
            for name in ("genwatt.predict", "genwatt.predict.predictor"):
                try:
                    module = importlib.import_module(name)
                except Exception as exc:  # not installed, or broken while being written
                    self._import_error = f"{type(exc).__name__}: {exc}"
                    continue
                if callable(getattr(module, "predict", None)):
                    self._module, self._import_error = module, None
                    break
            else:
                self._import_error = self._import_error or "it offers no predict()"
        return None if self._module is None else self._module.predict

    def _lookup(self, config: Mapping[str, Any], gpu: str | None) -> Lookup:
        model = config.get("model")
        if not model:
            return Lookup(None, "the run names no model")
        if gpu is None:
            return Lookup(
                None,
                "these runs did not use a GPU; the predictor and its physical floor model GPUs",
            )
        predict = self._predict_function()
        if predict is None:
            return Lookup(
                None, f"the predictor (genwatt.predict) is not available: {self._import_error}"
            )
        try:
            profile = _profile(gpu)
            if profile is None:
                return Lookup(None, f"the predictor has no hardware profile for {gpu!r}")
            settings = {s: config.get(s) for s in _SETTINGS if config.get(s) is not None}
            prediction = predict(
                str(model), profile, batch_size=int(config.get("batch_size") or 1), **settings
            )
            return Lookup(_point(prediction, gpu))
        except Exception as exc:  # an unknown model, a setting it cannot model, a bug
            return Lookup(None, f"the predictor gave no figure: {exc}")


def _profile(gpu: str) -> str | None:
    """The predictor's name for an NVML device name, or None if it has no profile."""
    hardware = importlib.import_module("genwatt.predict.hardware")
    profile = hardware.profile_for_device(gpu)
    return None if profile is None else str(profile.name)


def _point(prediction: Any, gpu: str) -> PredictedPoint:
    """Read a ``genwatt.predict`` prediction through its documented attributes."""
    floor = getattr(prediction, "energy_floor_j", None)
    estimate = getattr(prediction, "estimate", None)
    components = getattr(estimate, "energy_by_component_j", None) or {}
    return PredictedPoint(
        energy_j=float(prediction.energy_gpu_j),
        latency_s=float(prediction.latency_s),
        floor_j=None if floor is None or floor <= 0 else float(floor),
        gpu=gpu,
        phases_j={_COMPONENT_PHASES.get(k, k): float(v) for k, v in dict(components).items()},
    )
