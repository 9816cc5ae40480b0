"""Predicted sweeps: one setting varied over a range, and the scaling exponent it shows.

``--sweep frames=17:161:16`` asks how energy grows with frames before anything runs. The
exponent is fitted with ``genwatt.analysis.scaling.fit_power_law``, the same fit that
measured sweeps get, so a predicted exponent and a measured one compare directly.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genwatt.errors import ConfigError
from genwatt.predict.calibration import Calibration
from genwatt.predict.predictor import Prediction, predict

# Sweep names a user types -> the setting they vary.
SWEEPABLE = {
    "frames": "num_frames",
    "num_frames": "num_frames",
    "height": "height",
    "width": "width",
    "steps": "steps",
}
# The variable of fit_power_law each setting is fitted against.
_FIT_VARIABLE = {
    "num_frames": "num_frames",
    "height": "pixels",
    "width": "pixels",
    "steps": "steps",
}


def parse_sweep(text: str) -> tuple[str, list[int]]:
    """``"frames=17:161:16"`` (start:stop:step, stop included) or ``"steps=10,20,50"``."""
    name, sep, values = text.partition("=")
    setting = SWEEPABLE.get(name.strip().lower())
    if not sep or setting is None:
        raise ConfigError(
            f"--sweep {text!r}: write NAME=START:STOP:STEP or NAME=V1,V2,... with NAME one of "
            f"{', '.join(sorted(set(SWEEPABLE) - {'num_frames'}))}."
        )
    try:
        if ":" in values:
            parts = [int(p) for p in values.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            start, stop, step = parts[0], parts[1], parts[2] if len(parts) == 3 else 1
            if step <= 0 or stop < start:
                raise ValueError
            levels = list(range(start, stop + 1, step))
        else:
            levels = [int(v) for v in values.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(
            f"--sweep {text!r}: START:STOP:STEP must be whole numbers with STOP >= START and "
            "STEP > 0."
        ) from None
    if not levels:
        raise ConfigError(f"--sweep {text!r} has no values.")
    return setting, levels


@dataclass(frozen=True)
class SweepResult:
    """Predictions over a grid, one row per distinct configuration that would run."""

    rows: list[dict[str, Any]]
    predictions: list[Prediction]
    energy_fit: Any  # genwatt.analysis.scaling.ScalingFit
    latency_fit: Any
    varied: list[str]

    @property
    def warnings(self) -> list[str]:
        """Every extrapolation warning of the sweep's predictions, each once."""
        return list(dict.fromkeys(w for p in self.predictions for w in p.warnings))

    def to_dict(self) -> dict[str, Any]:
        return {
            "varied": self.varied,
            "rows": self.rows,
            "warnings": self.warnings,
            "energy_fit": self.energy_fit.to_dict(),
            "latency_fit": self.latency_fit.to_dict(),
            "provenance": "predicted",
        }


def predict_sweep(
    model: str,
    gpu: str,
    sweeps: Sequence[tuple[str, list[int]]],
    *,
    base: dict[str, Any] | None = None,
    calibration: Calibration | Path | None = None,
) -> SweepResult:
    """Predict every combination of the swept settings (others from ``base``)."""
    from genwatt.analysis.scaling import fit_power_law

    base = dict(base or {})
    names = [s for s, _ in sweeps]
    if len(set(names)) != len(names):
        raise ConfigError(f"each setting can be swept once; got {', '.join(names)}.")
    rows: list[dict[str, Any]] = []
    predictions: list[Prediction] = []
    seen: set[str] = set()
    for values in itertools.product(*(levels for _, levels in sweeps)):
        settings = {**base, **dict(zip(names, values, strict=True))}
        p = predict(model, gpu, calibration=calibration, **settings)
        key = json.dumps(p.workload.config, sort_keys=True)
        if key in seen:  # two requests the pipeline rounds to one run
            continue
        seen.add(key)
        c = p.workload.config
        rows.append(
            {
                "requested": dict(zip(names, values, strict=True)),
                "num_frames": c["num_frames"],
                "height": c["height"],
                "width": c["width"],
                "pixels": c["height"] * c["width"],
                "steps": c["steps"],
                "flops_total": p.workload.flops["total"],
                "latency_s": p.latency_s,
                "energy_gpu_j": p.energy_gpu_j,
                "energy_floor_j": p.energy_floor_j,
                "extrapolation": bool(p.warnings),
            }
        )
        predictions.append(p)
    variables = sorted({_FIT_VARIABLE[n] for n in names})
    return SweepResult(
        rows=rows,
        predictions=predictions,
        energy_fit=fit_power_law(rows, "energy_gpu_j", variables),
        latency_fit=fit_power_law(rows, "latency_s", variables),
        varied=names,
    )
