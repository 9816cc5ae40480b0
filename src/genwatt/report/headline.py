"""The headline: what one generation of a model costs, in one line, before any table.

A reader opening a report (or reaching the end of ``genwatt bench``) wants one figure
first: the energy of one generation with its provenance, its CO2e, what that is per
unit of output (per second of video, per frame, per megapixel-frame; per megapixel of
an image; per generated token), and which phase dominates. One configuration stands
for the model: the model's own default settings when they were measured, else the
largest configuration measured (the closest to real use); the line names it.

CO2e uses, in this order, the country or cloud region the caller gives, the carbon
setting the runs were stored with (``genwatt.carbon.setting``), or the world average,
and says which.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from genwatt import formatting as fmt
from genwatt.analysis.summary import ConfigSummary
from genwatt.carbon import Co2eResult, equivalents
from genwatt.carbon.equivalents import most_relatable
from genwatt.carbon.setting import choose_setting
from genwatt.errors import GenwattError
from genwatt.models import get_model
from genwatt.report.provenance import ESTIMATED

DEFAULTS_WHY = "the model's default settings"
LARGEST_WHY = "the largest configuration measured"
ONLY_WHY = "the only configuration measured"
_SETTINGS = ("num_frames", "height", "width", "steps", "max_text_tokens", "max_new_tokens")
_TEXT_SETTINGS = ("max_text_tokens", "max_new_tokens")


@dataclass(frozen=True)
class Headline:
    """One generation of ``model`` at ``settings``; energies in joules per output."""

    model: str
    settings: str
    why: str  # why this configuration stands for the model
    energy_j: float
    provenance: str
    co2e_g: float | None
    grid: str  # where the CO2e comes from, in words
    per_unit_j: tuple[tuple[str, float], ...]  # ("frame", J per frame), ...
    top_phase: str | None
    top_share: float | None  # of the generation's energy, 0 to 1
    relatable: str = ""  # "1.7 % of a phone charge"

    def text(self) -> str:
        """``wan-tiny at 17f 64x64 4 steps (...): one generation = 0.42 mWh (estimated),
        ...``: the whole headline as one line of plain text."""
        carbon = (
            f"{fmt.mass_g(self.co2e_g)} CO2e ({self.grid})"
            if self.co2e_g is not None
            else f"CO2e unknown ({self.grid})"
        )
        like = f" ≈ {self.relatable}" if self.relatable else ""
        parts = [
            f"{self.model} at {self.settings} ({self.why}): one generation = "
            f"{fmt.energy(self.energy_j)} ({self.provenance}), {carbon}{like}"
        ]
        per_unit = ", ".join(f"{fmt.energy(j)} per {unit}" for unit, j in self.per_unit_j)
        if per_unit:
            parts.append(per_unit)
        if self.top_phase is not None and self.top_share is not None:
            parts.append(f"{self.top_phase}: {self.top_share * 100:.0f} %")
        return "; ".join(parts)


def _default_settings(model: str) -> dict[str, Any]:
    """The model's registered defaults for the settings a sweep varies; {} if unknown."""
    try:
        spec = get_model(model)
    except GenwattError:
        return {}
    defaults = spec.defaults
    keys = _TEXT_SETTINGS if spec.task == "text" else ("num_frames", "height", "width", "steps")
    return {k: getattr(defaults, k) for k in keys if getattr(defaults, k, None) is not None}


def _fps(model: str) -> float | None:
    """Frames per second of the model's videos, when its spec records one."""
    try:
        fps = get_model(model).defaults.fps
    except GenwattError:  # a model this version does not register
        return None
    return float(fps) if fps else None


def _work(summary: ConfigSummary) -> float:
    """How much a configuration asks for: the product of its sizes (a sort key only)."""
    values = [summary.config.get(k) for k in _SETTINGS]
    return math.prod(float(v) for v in values if isinstance(v, int | float) and v > 0)


def reference(model: str, summaries: Sequence[ConfigSummary]) -> tuple[ConfigSummary, str] | None:
    """The configuration that stands for ``model``, and why; None when none was measured."""
    measured = [
        s for s in summaries if s.runs and math.isfinite(s.mean_energy_j) and s.mean_energy_j > 0
    ]
    if not measured:
        return None
    defaults = _default_settings(model)
    for summary in measured:
        if defaults and all(summary.config.get(k) == v for k, v in defaults.items()):
            return summary, DEFAULTS_WHY
    why = LARGEST_WHY if len(measured) > 1 else ONLY_WHY
    return max(measured, key=_work), why


def _per_unit(
    config: Mapping[str, Any], energy_j: float, fps: float | None
) -> list[tuple[str, float]]:
    """Energy per unit of output, for the units that apply to this configuration."""
    frames = config.get("num_frames") or 0
    pixels = (config.get("height") or 0) * (config.get("width") or 0)
    tokens = config.get("max_new_tokens") or 0
    units: list[tuple[str, float]] = []
    if frames > 0:
        if fps:
            units.append(("second of video", energy_j / (frames / fps)))
        units.append(("frame", energy_j / frames))
        if pixels > 0:
            units.append(("megapixel-frame", energy_j / (frames * pixels / 1e6)))
    elif pixels > 0:
        units.append(("megapixel", energy_j / (pixels / 1e6)))
    if tokens > 0:
        units.append(("generated token", energy_j / tokens))
    return units


def _top_phase(summary: ConfigSummary) -> tuple[str | None, float | None]:
    """The phase with the most energy and its share of the generation's energy."""
    total = summary.mean_energy_j
    phases = {p: summary.mean_phase_j(p) for p in summary.phases_j}
    phases = {p: v for p, v in phases.items() if math.isfinite(v) and v > 0}
    if not phases or not total > 0:
        return None, None
    top = max(phases, key=lambda p: phases[p])
    return top, min(1.0, phases[top] / total)


def _carbon(
    energy_j: float,
    summary: ConfigSummary,
    country: str | None,
    pue: float | None,
    cloud: str | None = None,
) -> tuple[Co2eResult, str]:
    """The CO2e of ``energy_j`` and where its grid comes from, in words
    (``genwatt.carbon.setting.choose_setting``)."""
    setting, origin = choose_setting(summary.carbon, country=country, pue=pue, cloud=cloud)
    grid = setting.intensity
    rate = f"{fmt.sig(grid.g_per_kwh)} g/kWh"
    where = "world-average grid" if grid.is_default else f"grid of {grid.name}"
    return setting.co2e(energy_j), f"{where}, {rate}: {origin}"


def headline(
    model: str,
    summaries: Sequence[ConfigSummary],
    *,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
    name: str | None = None,
) -> Headline | None:
    """The headline of ``model`` from its configurations; None when none has energy.

    ``country`` or ``cloud`` (an explicit choice, such as ``genwatt report --country``)
    wins over the grid the runs stored; ``name`` replaces the model's name in the text (a
    report names the machine too).
    """
    chosen = reference(model, summaries)
    if chosen is None:
        return None
    summary, why = chosen
    batch = int(summary.config.get("batch_size") or 1)
    energy_j = summary.mean_energy_j / batch
    if summary.carbon_error and not (country or cloud):  # stored, unusable: say so, guess nothing
        co2e_g, grid, relatable = None, f"no grid intensity: {summary.carbon_error}", ""
    else:
        result, grid = _carbon(energy_j, summary, country, pue, cloud)
        co2e_g = result.co2e_g
        relatable = most_relatable(equivalents(result.energy_j_facility, result.co2e_g))
    top, share = _top_phase(summary)
    return Headline(
        model=name or model,
        settings=summary.label(),
        why=why,
        energy_j=energy_j,
        provenance=str(summary.provenance or ESTIMATED),
        co2e_g=co2e_g,
        grid=grid,
        per_unit_j=tuple(_per_unit(summary.config, energy_j, _fps(model))),
        top_phase=top,
        top_share=share,
        relatable=relatable,
    )
