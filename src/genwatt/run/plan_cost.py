"""What a planned sweep will cost, predicted before anything runs (for ``--dry-run``).

Predictions come from ``genwatt.predict`` (provenance ``predicted``); a configuration
the predictor cannot price (a text model, an unknown GPU) gets its reason instead of a
number, so a plan never shows a guess as if it were a prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genwatt.errors import GenwattError
from genwatt.predict import predict
from genwatt.predict.hardware import profile_for_device
from genwatt.run.plan import PlannedConfig
from genwatt.store.environment import gpu_info


@dataclass(frozen=True)
class PlannedCost:
    latency_s: float | None
    energy_gpu_j: float | None
    calibration: str | None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency_s": self.latency_s,
            "energy_gpu_j": self.energy_gpu_j,
            "provenance": "predicted" if self.energy_gpu_j is not None else None,
            "calibration": self.calibration,
            "reason": self.reason,
        }


def detected_gpu(device: str) -> str | None:
    """The hardware profile of the CUDA device a plan will run on, if NVML names one."""
    if not device.startswith("cuda"):
        return None
    info = gpu_info()
    names = [g.get("name", "") for g in info.get("gpus", [])] if isinstance(info, dict) else []
    index = int(device.split(":")[1]) if ":" in device else 0
    if index < len(names):
        profile = profile_for_device(names[index])
        return profile.name if profile else None
    return None


def calibration_label(summary: dict[str, Any]) -> str:
    """One line: calibrated with its cross-validated error, or uncalibrated and why."""
    error = summary.get("cross_validated_error") or {}
    if summary.get("fitted") and error.get("energy_gpu_mape_pct") is not None:
        return (
            f"calibrated on {summary.get('gpu')} measurements, cross-validated energy "
            f"error {error['energy_gpu_mape_pct']:.1f} %"
        )
    return f"uncalibrated: {summary.get('source', 'datasheet figures')}"


def plan_costs(plan: list[PlannedConfig], gpu: str) -> list[PlannedCost]:
    costs: list[PlannedCost] = []
    for config in plan:
        p = config.params
        try:
            prediction = predict(
                config.model,
                gpu,
                num_frames=p.num_frames,
                height=p.height,
                width=p.width,
                steps=p.steps,
                guidance=p.guidance,
                batch_size=p.batch_size,
            )
        except GenwattError as exc:
            costs.append(PlannedCost(None, None, None, str(exc)))
            continue
        costs.append(
            PlannedCost(
                prediction.latency_s,
                prediction.energy_gpu_j,
                calibration_label(prediction.calibration.summary()),
            )
        )
    return costs
