"""Predict the latency and GPU energy of a generation before running it.

``predict("wan2.1-t2v-1.3b", "h100-sxm", num_frames=81, ...)`` resolves the settings as
the pipeline would, counts FLOPs in closed form (``genwatt.flops``), applies the model of
``genwatt.predict.model`` with the GPU's calibration, and returns a ``Prediction``
whose every energy figure is labelled ``predicted``. Pure Python and numpy: no torch,
so ``genwatt predict`` answers in well under two seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genwatt.predict.calibration import Calibration, calibration_for, extrapolation_warnings
from genwatt.predict.generation_compute import Workload, workload_for
from genwatt.predict.hardware import HardwareProfile, get_profile
from genwatt.predict.model import Estimate, estimate
from genwatt.units import j_to_wh

PROVENANCE = "predicted"


@dataclass(frozen=True)
class Prediction:
    """A workload's predicted latency and energy on one GPU, and how it was derived."""

    workload: Workload
    hardware: HardwareProfile
    calibration: Calibration
    estimate: Estimate

    provenance: str = PROVENANCE

    @property
    def latency_s(self) -> float:
        return self.estimate.latency_s

    @property
    def energy_gpu_j(self) -> float:
        return self.estimate.energy_j

    @property
    def energy_floor_j(self) -> float:
        return self.estimate.floor_j

    @property
    def warnings(self) -> list[str]:
        """Where the workload lies outside the data the calibration was fitted on."""
        return extrapolation_warnings(self.workload, self.calibration)

    @property
    def above_floor(self) -> float:
        """Predicted energy / physical floor: how far from every FLOP at peak and TDP."""
        return self.energy_gpu_j / self.energy_floor_j if self.energy_floor_j else float("inf")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready. Joules and seconds, plus Wh for the headline figures."""
        est = self.estimate
        hw = self.hardware
        return {
            "model": self.workload.model,
            "gpu": hw.name,
            "config": dict(self.workload.config),
            "stages": [s.name for s in self.workload.stages],
            "flops": self.workload.flops,
            "latency_s": self.latency_s,
            "latency_by_component_s": dict(est.latency_by_component_s),
            "energy_gpu_j": self.energy_gpu_j,
            "energy_gpu_wh": j_to_wh(self.energy_gpu_j),
            "energy_by_component_j": dict(est.energy_by_component_j),
            "mean_power_w": est.mean_power_w,
            "energy_floor_j": self.energy_floor_j,
            "energy_floor_wh": j_to_wh(self.energy_floor_j),
            "above_floor": self.above_floor,
            "provenance": self.provenance,
            "calibration": self.calibration.summary(),
            "hardware": {
                "name": hw.name,
                "display_name": hw.display_name,
                "peak_bf16_flops": hw.peak_bf16_flops,
                "tdp_w": hw.tdp_w,
                "citation": hw.citation,
            },
            "notes": list(self.workload.notes),
            "warnings": (warnings := self.warnings),
            "extrapolation": bool(warnings),
        }


def predict_workload(
    workload: Workload,
    gpu: str | HardwareProfile = "h100-sxm",
    *,
    calibration: Calibration | Path | None = None,
) -> Prediction:
    """The prediction for an already-built workload (multi-stage recipes, tests)."""
    hardware = get_profile(gpu) if isinstance(gpu, str) else gpu
    if not isinstance(calibration, Calibration):
        calibration = calibration_for(hardware, calibration)
    return Prediction(
        workload=workload,
        hardware=hardware,
        calibration=calibration,
        estimate=estimate(workload, hardware, calibration.params),
    )


def predict(
    model: str,
    gpu: str = "h100-sxm",
    *,
    num_frames: int | None = None,
    height: int | None = None,
    width: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    max_text_tokens: int | None = None,
    batch_size: int = 1,
    calibration: Calibration | Path | None = None,
    dtype: str | None = None,
) -> Prediction:
    """Latency and GPU energy of one generation of ``model`` on ``gpu``, predicted.

    Unset settings take the model's defaults; the pipeline's rounding applies (and is
    noted). ``calibration`` overrides the shipped one (a ``Calibration`` or a JSON path).
    ``dtype`` holds the whole pipeline in one precision (None: the registry's, per
    component). Raises ``ConfigError`` for an unknown model or GPU or an impossible
    setting.
    """
    hardware = get_profile(gpu)
    workload = workload_for(
        model,
        num_frames=num_frames,
        height=height,
        width=width,
        steps=steps,
        guidance=guidance,
        max_text_tokens=max_text_tokens,
        batch_size=batch_size,
        dtype=dtype,
    )
    return predict_workload(workload, hardware, calibration=calibration)
