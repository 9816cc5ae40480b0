"""Audit a table of published measurements against the predictor.

Why: a measurement whose stated configuration is wrong looks like any other number in
a CSV. The predictor knows what a configuration should cost, so a row whose measured
energy is far from the prediction for the settings it *states* is suspect. For each
suspect group, nearby configurations (the family's default sizes, the model's default
steps and frames) are tried, and one that explains the measurement is suggested.

The WAN rows of the paper's cross-model table are the case in point: labelled 480x832
and 60 steps, they cost what 1280x720 and 50 steps cost.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genwatt.errors import ConfigError
from genwatt.models import get_model, list_models
from genwatt.predict import video_energy_budget
from genwatt.predict.calibration import Calibration
from genwatt.predict.generation_compute import Workload, workload_for
from genwatt.predict.observations import (
    MODEL_COLUMNS,
    first_of,
    float_or_none,
    read_csv_rows,
    row_measurements,
    row_settings,
)
from genwatt.predict.predictor import predict_workload

# A row is flagged when measured / predicted energy leaves [1/(1+t), 1+t].
DEFAULT_TOLERANCE = 0.5

# Where a row names its model: genwatt's columns, then the paper's cross-model table's.
_MODEL_COLUMNS = (*MODEL_COLUMNS, video_energy_budget.MODEL_COLUMN)


@dataclass(frozen=True)
class GroupCheck:
    """The rows of one model and stated configuration, against one prediction."""

    model: str
    stated: dict[str, Any]
    rows: int
    flagged_rows: int
    measured_energy_j: float  # mean over the rows
    predicted_energy_j: float
    measured_latency_s: float | None
    predicted_latency_s: float
    suggestion: dict[str, Any] | None = None  # settings that explain the measurement
    suggested_energy_j: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        """Measured / predicted energy."""
        return self.measured_energy_j / self.predicted_energy_j

    @property
    def flagged(self) -> bool:
        return self.flagged_rows > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "stated": self.stated,
            "rows": self.rows,
            "flagged_rows": self.flagged_rows,
            "flagged": self.flagged,
            "measured_energy_j": self.measured_energy_j,
            "predicted_energy_j": self.predicted_energy_j,
            "ratio_measured_to_predicted": self.ratio,
            "measured_latency_s": self.measured_latency_s,
            "predicted_latency_s": self.predicted_latency_s,
            "suggestion": self.suggestion,
            "suggested_energy_j": self.suggested_energy_j,
            "note": self.note,
            "provenance": {"measured_energy_j": "measured", "predicted_energy_j": "predicted"},
        }


def outside(ratio: float, tolerance: float) -> bool:
    return abs(math.log(ratio)) > math.log1p(tolerance)


def _candidates(model: str, stated: dict[str, Any]) -> list[dict[str, Any]]:
    """Settings near ``stated``: the family's published default sizes (in the stated orientation),
    the model's default steps and frames, the stated values."""
    spec = get_model(model)
    # Published checkpoints only: genwatt's own miniature (wan-reference, 32x32) shares the
    # WAN family but its size is no setting a user of a real checkpoint would run.
    family = [
        s
        for s in list_models(include_tiny=False)
        if s.family == spec.family and s.repo_id is not None
    ]
    h0, w0 = stated.get("height"), stated.get("width")
    landscape = h0 is None or w0 is None or w0 >= h0
    sizes = {(h0, w0)}
    for s in family:
        if s.defaults.height and s.defaults.width:
            short, long = sorted((s.defaults.height, s.defaults.width))
            sizes.add((short, long) if landscape else (long, short))
    steps = {stated.get("steps"), spec.defaults.steps}
    frames = {stated.get("num_frames"), spec.defaults.num_frames}
    out = []
    for h, w in sorted(sizes, key=str):
        for st in sorted(steps, key=str):
            for f in sorted(frames, key=str):
                candidate = {**stated, "height": h, "width": w, "steps": st, "num_frames": f}
                if candidate != stated:
                    out.append(candidate)
    return out


def _workload(model: str, settings: dict[str, Any]) -> Workload:
    def number(key: str, kind: type) -> Any:
        value = float_or_none(settings.get(key))
        return None if value is None else kind(value)

    return workload_for(
        model,
        num_frames=number("num_frames", int),
        height=number("height", int),
        width=number("width", int),
        steps=number("steps", int),
        guidance=number("guidance", float),
    )


def _suggest(
    model: str,
    stated: dict[str, Any],
    measured_j: float,
    gpu: str,
    calibration: Calibration | Path | None,
    tolerance: float,
) -> tuple[dict[str, Any] | None, float | None]:
    best: tuple[float, dict[str, Any], float] | None = None
    for candidate in _candidates(model, stated):
        try:
            workload = _workload(model, candidate)
        except ConfigError:
            continue
        energy = predict_workload(workload, gpu, calibration=calibration).energy_gpu_j
        distance = abs(math.log(measured_j / energy))
        if best is None or distance < best[0]:
            best = (distance, candidate, energy)
    if best is None or best[0] > math.log1p(tolerance):
        return None, None
    return best[1], best[2]


def _groups(path: Path, model: str | None) -> dict[tuple[str, str], list[dict[str, str]]]:
    groups: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in read_csv_rows(path):
        name = first_of(row, _MODEL_COLUMNS) or model
        if name is None:
            raise ConfigError(f"{path} has no model column; say which model ran with --model.")
        settings = row_settings(row)
        groups[(name, repr(sorted(settings.items())))].append(row)
    return groups


def check_csv(
    path: Path,
    gpu: str = "h100-sxm",
    *,
    model: str | None = None,
    calibration: Calibration | Path | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> list[GroupCheck]:
    """Every (model, stated configuration) group of ``path``, checked row by row.

    Accepts the layouts of ``genwatt.predict.observations.from_csv`` and the paper's
    cross-model table. Models of that table that the registry cannot express directly
    (LTX-Video 0.9.7's two-pass recipe, AnimateDiff-Lightning) are built by
    ``genwatt.predict.video_energy_budget`` from the settings each row states.
    """
    if tolerance <= 0:
        raise ConfigError(f"--tolerance must be > 0 (a fraction, 0.5 = 50 %), got {tolerance}.")
    checks = []
    for (name, _), rows in _groups(path, model).items():
        first = rows[0]
        if video_energy_budget.CROSS_MODEL_LAYOUT.matches(first):
            workload, note = video_energy_budget.workload_of_row(first)
            registry = video_energy_budget.registry_name(name)
            stated = video_energy_budget.stated_settings(first)
            measured = [video_energy_budget.row_totals(r) for r in rows]
        else:
            registry = name
            stated = row_settings(first)
            workload, note = _workload(name, stated), ""
            measured = [row_measurements(r) for r in rows]
        prediction = predict_workload(workload, gpu, calibration=calibration)
        energies = [e for _, e in measured if e is not None]
        if not energies:
            continue
        latencies = [t for t, _ in measured if t is not None]
        flagged = sum(outside(e / prediction.energy_gpu_j, tolerance) for e in energies)
        mean_j = sum(energies) / len(energies)
        suggestion = suggested_j = None
        if flagged and registry is not None:
            clean = {k: float_or_none(v) for k, v in stated.items()}
            suggestion, suggested_j = _suggest(registry, clean, mean_j, gpu, calibration, tolerance)
        checks.append(
            GroupCheck(
                model=name,
                stated={k: float_or_none(v) for k, v in stated.items()},
                rows=len(energies),
                flagged_rows=flagged,
                measured_energy_j=mean_j,
                predicted_energy_j=prediction.energy_gpu_j,
                measured_latency_s=sum(latencies) / len(latencies) if latencies else None,
                predicted_latency_s=prediction.latency_s,
                suggestion=suggestion,
                suggested_energy_j=suggested_j,
                note=note,
            )
        )
    return checks
