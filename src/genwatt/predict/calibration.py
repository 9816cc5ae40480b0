"""A calibration: fitted parameters, the data behind them and their cross-validated error.

Calibrations are JSON files. The one for ``h100-sxm`` ships inside the package
(``calibrations/h100-sxm.json``), fitted on the published H100 measurements, and holds
the workloads it was fitted on, so that it can be refitted and checked without the
reference CSVs. ``genwatt calibrate`` writes new ones for other machines.

A GPU without its own calibration gets the shipped fit *transferred*: efficiencies as
fractions of its datasheet peak, powers as fractions of its TDP, host overheads in
seconds as they are. That is a guess, and the calibration says so (``fitted`` False,
no cross-validated error). A CPU gets stated defaults instead, since a GPU's kernel
efficiencies say nothing about a CPU's.

A calibration also knows the range of its data (frames, resolution, steps, denoiser
tokens), carried over with a transferred fit, so that a prediction far outside it says
that it is an extrapolation instead of looking as sure as one inside.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from genwatt.errors import ConfigError
from genwatt.predict.generation_compute import Workload
from genwatt.predict.hardware import HardwareProfile, get_profile
from genwatt.predict.model import ModelForm, ModelParams, get_form
from genwatt.version import __version__

SHIPPED_DIR = Path(__file__).resolve().parent / "calibrations"
REFERENCE_GPU = "h100-sxm"
FORMAT_VERSION = 1

# For CPUs: a BLAS reaches half of peak on large matmuls; attention and convolutions
# less. Stated, not fitted: calibrate a CPU with `genwatt calibrate --gpu cpu-2vcpu`.
CPU_DEFAULTS = ModelParams(
    attention_efficiency=0.3,
    dense_efficiency=0.5,
    aux_efficiency=0.3,
    call_overhead_s=0.0,
    fixed_overhead_s=0.0,
    denoise_power_frac=1.0,
    aux_power_frac=1.0,
)


@dataclass(frozen=True)
class Calibration:
    """Parameters for one GPU and where they come from."""

    gpu: str
    form: ModelForm
    params: ModelParams
    fitted: bool  # True: fitted on measurements taken on this GPU
    source: str  # one line: what it was fitted on, or how it was derived
    cv: dict[str, Any] | None = None  # CrossValidation.to_dict() of the chosen form
    fit_errors: dict[str, Any] | None = None  # in-sample errors, for comparison
    candidates: list[dict[str, Any]] = field(default_factory=list)  # every form's CV error
    observations: list[dict[str, Any]] = field(default_factory=list)  # the data fitted on
    derived_from: str | None = None  # the GPU whose fit was transferred
    genwatt_version: str = __version__
    # (min, max) of each axis of the data fitted on, when the observations are not kept
    # (a transferred fit); otherwise computed from ``observations``.
    ranges: dict[str, tuple[float, float]] | None = None

    def data_ranges(self) -> dict[str, tuple[float, float]]:
        """(smallest, largest) of each workload axis the fit saw; empty if unknown."""
        if self.ranges is not None or not self.observations:
            return dict(self.ranges or {})
        seen: dict[str, list[float]] = {}
        for obs in self.observations:
            for axis, value in workload_axes(Workload.from_dict(obs["workload"])).items():
                seen.setdefault(axis, []).append(value)
        return {axis: (min(values), max(values)) for axis, values in seen.items()}

    def summary(self) -> dict[str, Any]:
        """What a prediction reports about its calibration."""
        cv = None
        if self.cv is not None:
            cv = {
                k: self.cv.get(k)
                for k in ("method", "points", "latency_mape_pct", "energy_gpu_mape_pct")
            }
        return {
            "gpu": self.gpu,
            "fitted": self.fitted,
            "source": self.source,
            "derived_from": self.derived_from,
            "form": self.form.name,
            "form_description": self.form.description,
            "cross_validated_error": cv,
            "params": self.params.to_dict(),
            "data_ranges": {k: list(v) for k, v in self.data_ranges().items()},
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "gpu": self.gpu,
            "fitted": self.fitted,
            "source": self.source,
            "derived_from": self.derived_from,
            "genwatt_version": self.genwatt_version,
            "form": self.form.to_dict(),
            "params": self.params.to_dict(),
            "cross_validation": self.cv,
            "fit_errors": self.fit_errors,
            "candidates": list(self.candidates),
            "observations": list(self.observations),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        if data.get("format_version") != FORMAT_VERSION:
            raise ConfigError(
                f"calibration format {data.get('format_version')!r} is not "
                f"{FORMAT_VERSION}; recreate it with `genwatt calibrate`."
            )
        form = data["form"]
        return cls(
            gpu=data["gpu"],
            form=ModelForm(form["name"], form["description"], tuple(form["free"]), form["ties"]),
            params=ModelParams.from_dict(data["params"]),
            fitted=bool(data["fitted"]),
            source=data["source"],
            cv=data.get("cross_validation"),
            fit_errors=data.get("fit_errors"),
            candidates=list(data.get("candidates", [])),
            observations=list(data.get("observations", [])),
            derived_from=data.get("derived_from"),
            genwatt_version=data.get("genwatt_version", ""),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read the calibration {path}: {exc}") from exc
        if not isinstance(data, dict) or "params" not in data:
            raise ConfigError(f"{path} is not a genwatt calibration (no 'params').")
        return cls.from_dict(data)


# Axes of a workload a calibration's range is judged on, with how a user names them.
AXES = {"num_frames": "frames", "pixels": "resolution", "steps": "steps", "tokens": "tokens"}


def workload_axes(workload: Workload) -> dict[str, float]:
    """The workload's value on each axis in AXES it has (an image has no frames)."""
    c = workload.config
    values: dict[str, float] = {}
    if c.get("num_frames"):
        values["num_frames"] = c["num_frames"]
    if c.get("height") and c.get("width"):
        values["pixels"] = c["height"] * c["width"]
    if c.get("steps"):
        values["steps"] = c["steps"]
    tokens = max((s.tokens for s in workload.stages), default=0)
    if tokens:
        values["tokens"] = tokens
    return values


def _axis_text(axis: str, value: float) -> str:
    return f"{value / 1e6:.3g} Mpx" if axis == "pixels" else f"{value:,.0f}"


def uncalibrated_precision(workload: Workload, calibration: Calibration) -> str | None:
    """A denoiser precision of ``workload`` that none of the calibration's data ran in
    (FP32 against a bf16 fit), else None; None too where the data are not kept."""
    seen = {
        stage.get("denoiser_precision", "bf16")
        for obs in calibration.observations
        for stage in obs.get("workload", {}).get("stages", [])
    }
    for stage in workload.stages:
        if seen and stage.denoiser_precision not in seen:
            return stage.denoiser_precision
    return None


def extrapolation_warnings(workload: Workload, calibration: Calibration) -> list[str]:
    """One line per axis on which ``workload`` lies outside the calibration's data."""
    ranges = calibration.data_ranges()
    warnings: list[str] = []
    precision = uncalibrated_precision(workload, calibration)
    if precision is not None:
        warnings.append(
            f"the denoiser runs in {precision}, which no calibration point ran in: the fit's "
            "efficiencies and powers are carried over, outside its cross-validated error "
            "(checked on an A100 in FP32: docs/validation.md, 'The diffusion predictor on "
            "another GPU and precision')"
        )
    for axis, value in workload_axes(workload).items():
        if axis not in ranges:
            continue
        low, high = ranges[axis]
        name, text = AXES[axis], _axis_text(axis, value)
        if value > high:
            warnings.append(
                f"{name} {text} is {value / high:.3g}x the largest calibrated "
                f"({_axis_text(axis, high)}): an extrapolation"
            )
        elif value < low:
            warnings.append(
                f"{name} {text} is below the smallest calibrated "
                f"({_axis_text(axis, low)}): an extrapolation"
            )
    return warnings


def shipped_path(gpu: str) -> Path:
    return SHIPPED_DIR / f"{gpu}.json"


@cache
def shipped(gpu: str) -> Calibration | None:
    """The calibration shipped for ``gpu`` (a profile name), if there is one."""
    path = shipped_path(gpu)
    return Calibration.load(path) if path.exists() else None


def transfer(calibration: Calibration, hardware: HardwareProfile) -> Calibration:
    """``calibration`` carried to another GPU through its datasheet (not fitted there)."""
    if hardware.kind == "cpu":
        return Calibration(
            gpu=hardware.name,
            form=get_form("attention-split"),
            params=CPU_DEFAULTS,
            fitted=False,
            source="uncalibrated: stated CPU defaults (matmul efficiency 0.5, attention and "
            "VAE 0.3 of fp32 peak, power at the TDP share); error unknown",
        )
    return replace(
        calibration,
        gpu=hardware.name,
        fitted=False,
        source=(
            f"uncalibrated: the {calibration.gpu} fit carried over by datasheet "
            f"(efficiencies x {hardware.name} peak FLOP/s, power as a fraction of its "
            f"{hardware.tdp_w:g} W TDP); error on this GPU unknown"
        ),
        cv=None,
        fit_errors=None,
        candidates=[],
        observations=[],
        derived_from=calibration.gpu,
        ranges=calibration.data_ranges(),
    )


def calibration_for(gpu: str | HardwareProfile, path: Path | None = None) -> Calibration:
    """The calibration a prediction on ``gpu`` uses.

    An explicit ``path`` wins; then the calibration shipped for this GPU; then the
    reference GPU's, transferred.
    """
    hardware = get_profile(gpu) if isinstance(gpu, str) else gpu
    if path is not None:
        loaded = Calibration.load(path)
        if loaded.gpu != hardware.name:
            return transfer(loaded, hardware)
        return loaded
    own = shipped(hardware.name)
    if own is not None:
        return own
    reference = shipped(REFERENCE_GPU)
    if reference is None:  # pragma: no cover - a broken install
        raise ConfigError(
            f"the shipped calibration {shipped_path(REFERENCE_GPU)} is missing; reinstall genwatt."
        )
    return transfer(reference, hardware)
