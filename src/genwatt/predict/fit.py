"""Fitting the model's efficiencies and powers to measurements, and judging the fit.

Least squares on log(predicted / measured), for latency and GPU energy together:
relative errors, because the points span three orders of magnitude (a 6 s and a
600 s generation should count alike), and logs, because they treat "twice too high"
and "twice too low" the same. scipy is imported inside the functions that fit.

Every calibration reports its *cross-validated* error: each point is predicted by a fit
that never saw its configuration (leave-one-configuration-out by default, or
leave-one-group-out to hold out a whole sweep). The in-sample error of an
eight-parameter fit to thirty points says little about the next configuration; the
cross-validated error is the honest figure.

Form selection: every form of ``genwatt.predict.model.FORMS`` is cross-validated, in
order of complexity, and a richer form replaces the current choice only when its error
is lower by more than ``SELECTION_SLACK_PCT``: it must earn its parameters on points it
did not see.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genwatt.errors import ConfigError
from genwatt.predict.calibration import Calibration
from genwatt.predict.hardware import HardwareProfile, get_profile, profile_for_device
from genwatt.predict.model import (
    FORMS,
    POSITIVE,
    ModelForm,
    ModelParams,
    estimate,
    get_form,
    ridge_ratio,
)
from genwatt.predict.observations import CsvLayout, Observation, load, store_gpu_names
from genwatt.predict.video_energy_budget import CSV_LAYOUTS

# A more complex form is chosen only when its CV error (mean of the latency and energy
# MAPEs, in %) beats every simpler one's by more than this many percentage points.
SELECTION_SLACK_PCT = 0.5

_BOUNDS: dict[str, tuple[float, float]] = {
    "attention_efficiency": (1e-4, 1.5),
    "dense_efficiency": (1e-4, 1.5),
    "aux_efficiency": (1e-5, 1.5),
    "attention_half_tokens": (0.0, 1e6),
    "call_overhead_s": (0.0, 10.0),
    "fixed_overhead_s": (0.0, 600.0),
    "denoise_power_frac": (0.02, 1.5),
    "attention_power_frac": (0.02, 1.5),
    "aux_power_frac": (0.02, 1.5),
}


@dataclass(frozen=True)
class PointError:
    """One observation next to the prediction of a fit that did not see it."""

    label: str
    group: str
    latency_s: float | None
    predicted_latency_s: float
    energy_gpu_j: float | None
    predicted_energy_gpu_j: float

    @property
    def latency_error(self) -> float | None:
        """Signed relative error of latency, (predicted - measured) / measured."""
        if self.latency_s is None:
            return None
        return self.predicted_latency_s / self.latency_s - 1.0

    @property
    def energy_error(self) -> float | None:
        if self.energy_gpu_j is None:
            return None
        return self.predicted_energy_gpu_j / self.energy_gpu_j - 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "group": self.group,
            "latency_s": self.latency_s,
            "predicted_latency_s": self.predicted_latency_s,
            "latency_error": self.latency_error,
            "energy_gpu_j": self.energy_gpu_j,
            "predicted_energy_gpu_j": self.predicted_energy_gpu_j,
            "energy_error": self.energy_error,
        }


def mape_pct(errors: Sequence[float | None]) -> float | None:
    """Mean absolute percentage error over the errors that exist."""
    kept = [abs(e) for e in errors if e is not None]
    return 100.0 * sum(kept) / len(kept) if kept else None


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold predictions of every point and their mean absolute % errors."""

    method: str  # "leave-one-configuration-out", "leave-one-group-out" or "in-sample"
    points: list[PointError] = field(default_factory=list)

    @property
    def latency_mape_pct(self) -> float | None:
        return mape_pct([p.latency_error for p in self.points])

    @property
    def energy_gpu_mape_pct(self) -> float | None:
        return mape_pct([p.energy_error for p in self.points])

    @property
    def score_pct(self) -> float:
        """The selection score: mean of the two MAPEs that exist."""
        values = [v for v in (self.latency_mape_pct, self.energy_gpu_mape_pct) if v is not None]
        return sum(values) / len(values) if values else math.inf

    def by_group(self) -> dict[str, dict[str, float | int | None]]:
        groups: dict[str, list[PointError]] = {}
        for p in self.points:
            groups.setdefault(p.group, []).append(p)
        return {
            g: {
                "points": len(ps),
                "latency_mape_pct": mape_pct([p.latency_error for p in ps]),
                "energy_gpu_mape_pct": mape_pct([p.energy_error for p in ps]),
            }
            for g, ps in groups.items()
        }

    def summary(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "points": len(self.points),
            "latency_mape_pct": self.latency_mape_pct,
            "energy_gpu_mape_pct": self.energy_gpu_mape_pct,
            "by_group": self.by_group(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "per_point": [p.to_dict() for p in self.points]}


# ------------------------------------------------------------------------------ fit


@dataclass(frozen=True)
class _Design:
    """The observations as arrays, so a fit evaluates the model without Python loops.

    Mirrors ``genwatt.predict.model.estimate`` exactly (a test holds them together):
    every time term is FLOPs / peak ("peak-seconds") divided by an efficiency, and the
    token-dependent attention term is A/e_max x (1 + N_half / N).
    """

    stage_of: Any  # observation index of each stage row
    text: Any  # peak-seconds of each stage's text encoder
    attention: Any
    attention_per_token: Any  # attention peak-seconds / tokens
    dense: Any
    vae: Any
    calls: Any
    n_obs: int
    latency_s: Any  # measured, NaN where missing
    energy_j: Any
    tdp_w: float

    @classmethod
    def of(cls, observations: Sequence[Observation], hardware: HardwareProfile) -> _Design:
        import numpy as np

        rows: list[tuple[float, ...]] = []
        for i, obs in enumerate(observations):
            for st in obs.workload.stages:
                peak = hardware.peak_flops(st.denoiser_precision)
                attention = st.forwards * st.attention_flops_per_forward / peak
                rows.append(
                    (
                        i,
                        st.text_encoder_flops / hardware.peak_flops(st.text_encoder_precision),
                        attention,
                        attention / st.tokens * ridge_ratio(hardware, st.denoiser_precision)
                        if st.tokens
                        else 0.0,
                        st.dense_seconds_at_peak(hardware),
                        st.vae_decode_flops / hardware.peak_flops(st.vae_precision),
                        st.calls,
                    )
                )
        a = np.asarray(rows, dtype=float).reshape(-1, 7)
        nan = float("nan")
        return cls(
            stage_of=a[:, 0].astype(int),
            text=a[:, 1],
            attention=a[:, 2],
            attention_per_token=a[:, 3],
            dense=a[:, 4],
            vae=a[:, 5],
            calls=a[:, 6],
            n_obs=len(observations),
            latency_s=np.array([nan if o.latency_s is None else o.latency_s for o in observations]),
            energy_j=np.array(
                [nan if o.energy_gpu_j is None else o.energy_gpu_j for o in observations]
            ),
            tdp_w=hardware.tdp_w,
        )

    def predict(self, p: ModelParams) -> tuple[Any, Any]:
        """(latency s, energy J) of every observation."""
        import numpy as np

        attention = (self.attention + p.attention_half_tokens * self.attention_per_token) / (
            p.attention_efficiency
        )
        dense = self.dense / p.dense_efficiency
        other = (
            (self.text + self.vae) / p.aux_efficiency
            + self.calls * p.call_overhead_s
            + p.fixed_overhead_s
        )
        attention_s = np.bincount(self.stage_of, attention, minlength=self.n_obs)
        dense_s = np.bincount(self.stage_of, dense, minlength=self.n_obs)
        other_s = np.bincount(self.stage_of, other, minlength=self.n_obs)
        energy = self.tdp_w * (
            p.attention_power_frac * attention_s
            + p.denoise_power_frac * dense_s
            + p.aux_power_frac * other_s
        )
        return attention_s + dense_s + other_s, energy

    def residuals(self, p: ModelParams) -> Any:
        """log(predicted / measured) of every measured figure."""
        import numpy as np

        latency, energy = self.predict(p)
        r = np.concatenate([np.log(latency / self.latency_s), np.log(energy / self.energy_j)])
        return r[np.isfinite(r)]


def _encode(name: str, value: float) -> float:
    return math.log(value) if name in POSITIVE else value


def _decode(name: str, value: float) -> float:
    return math.exp(value) if name in POSITIVE else value


def _starts(form: ModelForm, base: ModelParams) -> list[dict[str, float]]:
    """A few starting points: the base, and efficiencies/overheads shifted by 3x."""
    starts = []
    for scale in (1.0, 0.3, 3.0):
        point = {}
        for name in form.free:
            value = getattr(base, name)
            if name.endswith("_efficiency"):
                value = min(value * scale, 1.0)
            elif name == "attention_half_tokens":
                value = 5000.0 * scale
            elif name.endswith("_overhead_s"):
                value = 0.05 * scale if name == "call_overhead_s" else 1.0 * scale
            point[name] = value
        starts.append(point)
    return starts


def fit(
    observations: Sequence[Observation],
    hardware: HardwareProfile,
    form: ModelForm,
    *,
    base: ModelParams | None = None,
) -> ModelParams:
    """The parameters of ``form`` that minimise the squared log errors (scipy).

    ``base`` supplies the parameters the form does not free.
    """
    import numpy as np
    from scipy.optimize import least_squares

    base = base or ModelParams()
    if not observations:
        raise ConfigError("no measurements to calibrate against.")
    n_residuals = sum(
        (o.latency_s is not None) + (o.energy_gpu_j is not None) for o in observations
    )
    if n_residuals < len(form.free):
        raise ConfigError(
            f"{n_residuals} measured figures cannot fit the {len(form.free)} parameters of "
            f"the {form.name!r} model; add measurements or choose a simpler form."
        )
    names = form.free
    low = [_encode(n, _BOUNDS[n][0]) for n in names]
    high = [_encode(n, _BOUNDS[n][1]) for n in names]

    def params_of(x: Any) -> ModelParams:
        return form.apply({n: _decode(n, float(v)) for n, v in zip(names, x, strict=True)}, base)

    design = _Design.of(observations, hardware)

    def residuals(x: Any) -> Any:
        return design.residuals(params_of(x))

    best = None
    for start in _starts(form, base):
        x0 = np.clip([_encode(n, start[n]) for n in names], low, high)
        result = least_squares(residuals, x0, bounds=(low, high), method="trf", x_scale=1.0)
        if best is None or result.cost < best.cost:
            best = result
    assert best is not None
    return params_of(best.x)


def _point(obs: Observation, hardware: HardwareProfile, params: ModelParams) -> PointError:
    est = estimate(obs.workload, hardware, params)
    return PointError(
        label=obs.label,
        group=obs.group,
        latency_s=obs.latency_s,
        predicted_latency_s=est.latency_s,
        energy_gpu_j=obs.energy_gpu_j,
        predicted_energy_gpu_j=est.energy_j,
    )


def configuration_of(obs: Observation) -> str:
    """The fold key of leave-one-configuration-out: the model and what it ran."""
    import json

    return json.dumps([obs.workload.model, obs.workload.config], sort_keys=True, default=str)


def cross_validate(
    observations: Sequence[Observation],
    hardware: HardwareProfile,
    form: ModelForm,
    *,
    by: Callable[[Observation], str] | None = None,
    method: str | None = None,
    base: ModelParams | None = None,
) -> CrossValidation:
    """Predict each fold from a fit on the others.

    The default fold is one *configuration*: leave-one-out, except that the same
    configuration measured twice (in two sweeps, or in a sweep and a table) is held out
    as a whole, so no point is predicted by a fit that saw its twin. ``by`` maps an
    observation to another fold key (``lambda o: o.group`` holds out whole sweeps);
    twins of a held-out configuration in other folds leave the training set as well. A
    fold whose remainder cannot support the form is skipped, not faked.
    """
    key_of = by or configuration_of
    keys = [key_of(o) for o in observations]
    points: list[PointError] = []
    configs = [configuration_of(o) for o in observations]
    for key in dict.fromkeys(keys):
        held = [o for o, k in zip(observations, keys, strict=True) if k == key]
        held_configs = {c for c, k in zip(configs, keys, strict=True) if k == key}
        # A configuration's twin in another fold leaves the training set too.
        train = [
            o
            for o, k, c in zip(observations, keys, configs, strict=True)
            if k != key and c not in held_configs
        ]
        try:
            params = fit(train, hardware, form, base=base)
        except ConfigError:
            continue
        points.extend(_point(o, hardware, params) for o in held)
    name = method or ("leave-one-group-out" if by else "leave-one-configuration-out")
    return CrossValidation(name, points)


def in_sample(
    observations: Sequence[Observation], hardware: HardwareProfile, params: ModelParams
) -> CrossValidation:
    """Errors of a fit on the points it was fitted to (optimistic; for comparison)."""
    return CrossValidation("in-sample", [_point(o, hardware, params) for o in observations])


@dataclass(frozen=True)
class FitResult:
    """The chosen form, its parameters on all points, and every form's CV error."""

    form: ModelForm
    params: ModelParams
    cv: CrossValidation
    fit_errors: CrossValidation
    candidates: dict[str, CrossValidation]

    def candidates_summary(self) -> list[dict[str, Any]]:
        return [
            {
                "form": name,
                "latency_mape_pct": cv.latency_mape_pct,
                "energy_gpu_mape_pct": cv.energy_gpu_mape_pct,
                "score_pct": cv.score_pct,
            }
            for name, cv in self.candidates.items()
        ]


def select_and_fit(
    observations: Sequence[Observation],
    hardware: HardwareProfile,
    forms: Sequence[ModelForm] = FORMS,
    *,
    slack_pct: float = SELECTION_SLACK_PCT,
) -> FitResult:
    """Cross-validate every form, keep the simplest one the data supports, refit it on
    all points.

    Forms are taken in order of complexity; a later form replaces the current choice
    only if its leave-one-out score is lower by more than ``slack_pct`` points.
    """
    candidates: dict[str, CrossValidation] = {}
    measured = sum((o.latency_s is not None) + (o.energy_gpu_j is not None) for o in observations)
    for form in forms:
        if measured <= len(form.free) or len(observations) < 3:
            continue
        candidates[form.name] = cross_validate(observations, hardware, form)
    if not candidates:
        raise ConfigError(
            f"{len(observations)} configurations are too few to calibrate and cross-validate "
            "any model form; measure at least three configurations."
        )
    chosen = None
    for form in forms:
        cv = candidates.get(form.name)
        if cv is None:
            continue
        if chosen is None or cv.score_pct < candidates[chosen.name].score_pct - slack_pct:
            chosen = form
    assert chosen is not None
    params = fit(observations, hardware, chosen)
    return FitResult(
        form=chosen,
        params=params,
        cv=candidates[chosen.name],
        fit_errors=in_sample(observations, hardware, params),
        candidates=candidates,
    )


def build_calibration(
    observations: Sequence[Observation],
    hardware: HardwareProfile,
    *,
    form: str = "auto",
    source: str,
) -> Calibration:
    """Fit (choosing the form by cross-validation when ``form`` is "auto") and package
    the result with its data and errors."""
    if form == "auto":
        result = select_and_fit(observations, hardware)
    else:
        try:
            chosen = get_form(form)
        except ValueError as exc:
            raise ConfigError(f"{exc}; or use --form auto.") from None
        result = select_and_fit(observations, hardware, (chosen,))
    groups = sorted({o.group for o in observations})
    return Calibration(
        gpu=hardware.name,
        form=result.form,
        params=result.params,
        fitted=True,
        source=(
            f"fitted on {len(observations)} measured configurations on {hardware.name} "
            f"({', '.join(groups)}) from {source}"
        ),
        cv=result.cv.to_dict(),
        fit_errors=result.fit_errors.summary(),
        candidates=result.candidates_summary(),
        observations=[o.to_dict() for o in observations],
    )


def calibrate_from(
    source: Path,
    gpu: str,
    *,
    model: str | None = None,
    form: str = "auto",
    layouts: Sequence[CsvLayout] = CSV_LAYOUTS,
) -> Calibration:
    """A calibration for ``gpu`` from a genwatt store or a CSV of measurements.

    A CSV may also be in one of ``layouts``: by default the published tables genwatt
    knows (``genwatt.predict.video_energy_budget``). A store whose runs were measured
    on another GPU model is refused: its numbers would calibrate the wrong datasheet.
    """
    hardware = get_profile(gpu)
    observations = load(source, model=model, layouts=layouts)
    with source.open("rb") as handle:
        is_store = handle.read(16) == b"SQLite format 3\x00"
    if is_store:
        seen = {profile_for_device(n) for n in store_gpu_names(source)}
        others = {p.name for p in seen if p is not None and p.name != hardware.name}
        if others:
            raise ConfigError(
                f"{source} holds runs measured on {', '.join(sorted(others))}, not "
                f"{hardware.name}; pass --gpu {sorted(others)[0]} or a store from this GPU."
            )
    return build_calibration(observations, hardware, form=form, source=str(source))
