"""How energy (or latency) scales with frames, pixels and steps: fitted exponents.

One multiplicative model fits all configurations of a sweep at once,

    log E = c + k_frames log F + k_pixels log (H x W) + k_steps log S,

by ordinary least squares, so each exponent is estimated holding the others fixed,
with a 95 % confidence interval from Student's t. A variable with a single level in
the data is left out (it has no slope to fit), and with no more configurations than
varying settings nothing is fitted (the exponents would be arbitrary). The interval
needs more configurations
than fitted parameters (at least three for one variable): with exactly as many, the
line passes through every point and nothing is left to estimate the spread from, so
the exponent has no interval (``None``, and the fit's ``note`` says how many points
one would need) rather than an infinite one. Self-attention makes the transformer's
cost quadratic in tokens, so on a large model k_frames and k_pixels approach 2 as
sequences grow; fixed per-step costs, the text encoder and the VAE pull them below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

VARIABLES = ("num_frames", "pixels", "steps", "max_text_tokens", "max_new_tokens")


@dataclass(frozen=True)
class Exponent:
    variable: str
    value: float
    ci_low: float | None  # None: too few points for an interval (see the fit's note)
    ci_high: float | None
    levels: int

    @property
    def has_ci(self) -> bool:
        return self.ci_low is not None and self.ci_high is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "value": self.value,
            "ci95": [self.ci_low, self.ci_high] if self.has_ci else None,
            "levels": self.levels,
        }


@dataclass(frozen=True)
class ScalingFit:
    response: str
    exponents: dict[str, Exponent]
    r_squared: float
    points: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "response": self.response,
            "model": "log y = c + sum_k k_v log v (OLS, 95% CI from Student t)",
            "exponents": {k: e.to_dict() for k, e in self.exponents.items()},
            "r_squared": self.r_squared,
            "points": self.points,
            "note": self.note,
        }


def fit_power_law(
    rows: Sequence[dict[str, float]], response: str, variables: Sequence[str] = VARIABLES
) -> ScalingFit:
    """Fit ``response`` against ``variables`` in log-log space over ``rows``.

    Only variables with two or more levels are fitted; rows missing one of those (or
    with a non-positive value) are skipped. Each row is one configuration (average
    repeats first: repeats are not independent levels).
    """
    from scipy import stats

    with_response = [r for r in rows if (r.get(response) or 0) > 0]
    varying = [
        v for v in variables if len({r[v] for r in with_response if (r.get(v) or 0) > 0}) >= 2
    ]
    usable = [r for r in with_response if all((r.get(v) or 0) > 0 for v in varying)]
    if not usable or not varying:
        return ScalingFit(response, {}, float("nan"), len(usable), "no variable varies")
    if len(usable) <= len(varying):  # a line through every point, or not even that
        return ScalingFit(
            response,
            {},
            float("nan"),
            len(usable),
            f"{len(varying)} varying settings need ≥{len(varying) + 1} configurations to fit "
            f"(have {len(usable)})",
        )
    design = np.column_stack(
        [np.ones(len(usable))] + [np.log([r[v] for r in usable]) for v in varying]
    )
    y = np.log([r[response] for r in usable])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residuals = y - design @ coef
    dof = len(y) - design.shape[1]
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(residuals**2)) / ss_tot if ss_tot > 0 else float("nan")
    half_widths: list[float | None] = [None] * design.shape[1]
    note = ""
    if dof > 0:
        sigma2 = float(residuals @ residuals) / dof
        stderr = np.sqrt(np.diag(sigma2 * np.linalg.pinv(design.T @ design)))
        t = float(stats.t.ppf(0.975, dof))
        half_widths = [float(t * s) for s in stderr]
    else:
        note = f"CI needs ≥{design.shape[1] + 1} points (have {len(usable)})"
    exponents = {
        v: _exponent(v, float(coef[i + 1]), half_widths[i + 1], len({r[v] for r in usable}))
        for i, v in enumerate(varying)
    }
    return ScalingFit(response, exponents, r2, len(usable), note)


def _exponent(variable: str, value: float, half_width: float | None, levels: int) -> Exponent:
    """An exponent with its interval; none when the half-width is missing or not finite."""
    if half_width is None or not np.isfinite(half_width):
        return Exponent(variable, value, None, None, levels)
    return Exponent(variable, value, value - half_width, value + half_width, levels)
