"""A service's energy and CO2e at scale: one query's energy times a volume of queries.

Press coverage of the field's studies turns per-query figures into fleet figures (40
million clips in seven weeks for one commercial video model; data centres near 1 % of
the world's electricity); users ask the same of their own service. A footprint is:

- one query's energy (``genwatt.predict.query_energy``), either **predicted** or taken
  from the **store**, with a low-high range: for a prediction, the predictor's
  cross-validated error; for stored runs, the spread between the runs;
- times a count of queries, once or per day, week or year (a year is a day's count x
  365, a week's x 52.18);
- priced on a grid (``genwatt.carbon.setting``), after the facility's PUE, with
  everyday equivalents at the scale of a service (households' yearly electricity first)
  and the share of the grid's country's yearly electricity generation.

Joules inside; kWh, TWh and kg CO2e only in ``to_dict`` and the text. Every figure
carries the provenance of the per-query energy it was scaled from.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from genwatt import formatting as fmt
from genwatt.carbon import grid_data
from genwatt.carbon.equivalents import FLEET_ORDER, Equivalent, fleet_equivalents, most_relatable
from genwatt.carbon.generation import J_PER_TWH, GenerationShare, share_of_generation
from genwatt.carbon.intensity import Co2eResult, GridIntensity
from genwatt.carbon.setting import CarbonSetting, choose_setting
from genwatt.errors import GenwattError
from genwatt.predict.query_energy import (
    SCOPE_WORDS,
    FootprintError,
    QueryEnergy,
    Scope,
    predicted_query_energy,
    stored_query_energy,
)
from genwatt.units import j_to_kwh

if TYPE_CHECKING:
    from genwatt.predict.calibration import Calibration

Period = Literal["day", "week", "year"]

DAYS_PER_YEAR = 365.0
# 365.25 days a year over 7 days a week, rounded as the brief of issue 20 states it.
WEEKS_PER_YEAR = 52.18
PER_YEAR: dict[str, float] = {"day": DAYS_PER_YEAR, "week": WEEKS_PER_YEAR, "year": 1.0}


# ------------------------------------------------------------------ at scale


def carbon_for(
    basis: QueryEnergy,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
) -> tuple[CarbonSetting, str]:
    """The grid and PUE to price a footprint on, and where they come from, in words.

    Stored runs keep the setting they were stored with, and what is asked now replaces
    its parts (``choose_setting``), as in ``genwatt report``. A prediction, or runs
    stored without a setting, take the flags, else ``$GENWATT_COUNTRY`` /
    ``$GENWATT_CLOUD`` and ``$GENWATT_PUE``, else the world average and a PUE of 1.
    """
    if basis.stored_setting is not None:
        return choose_setting(basis.stored_setting, country=country, pue=pue, cloud=cloud)
    setting = CarbonSetting.resolve(country, pue, cloud=cloud)
    if country or cloud:
        origin = "as asked"
    elif setting.is_default:
        origin = "no grid given: the world average"
    else:
        origin = "from the environment"
    return setting, origin


def _world_share(energy_j: float) -> GenerationShare:
    """``energy_j`` as a share of every country's latest yearly generation, summed."""
    rows = grid_data.countries()
    total_twh = sum(r.generation_twh for r in rows)
    return GenerationShare(
        energy_j=energy_j,
        fraction=energy_j / (total_twh * J_PER_TWH),
        iso3="WLD",
        name="the world",
        year=max(r.year for r in rows),
        generation_twh=total_twh,
        source=f"{grid_data.GENERATION_SOURCE}, summed over {len(rows)} countries' latest years",
    )


def generation_share(energy_j: float, grid: GridIntensity) -> GenerationShare | None:
    """``energy_j`` as a share of the yearly generation of ``grid``'s country (a cloud
    region's country; the world's for the world average); None when the country is not
    in today's table (a stored snapshot of an older one)."""
    if grid.is_default or grid.iso3 == "WLD":
        return _world_share(energy_j)
    try:
        return share_of_generation(energy_j, grid.iso3)
    except GenwattError:
        return None


@dataclass(frozen=True)
class Footprint:
    """``queries`` queries of ``basis``: once (``per`` None) or a year of ``count`` per
    ``per``. Energies in joules: ``energy_j`` at the device, ``co2e`` holds the
    facility energy (after the PUE) and its grams; the low and high figures scale with
    the per-query range and are None without one. ``provenance`` is the basis's."""

    basis: QueryEnergy
    count: float
    per: Period | None
    queries: float
    carbon: CarbonSetting
    grid_origin: str
    energy_j: float
    energy_low_j: float | None
    energy_high_j: float | None
    co2e: Co2eResult
    equivalents: tuple[Equivalent, ...]
    share: GenerationShare | None

    @property
    def provenance(self) -> str:
        return self.basis.provenance

    @property
    def energy_facility_j(self) -> float:
        return self.co2e.energy_j_facility

    def _facility(self, energy_j: float | None) -> float | None:
        return None if energy_j is None else energy_j * self.carbon.pue

    def _grams(self, energy_j: float | None) -> float | None:
        return None if energy_j is None else self.carbon.co2e(energy_j).co2e_g

    @property
    def period_words(self) -> str:
        """``a year`` for a yearly footprint, ``in total`` for a one-off count."""
        return "a year" if self.per is not None else "in total"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: kWh and kg at this edge. ``energy_kwh`` is what the grid delivers
        (device energy x PUE); ``energy_kwh_device`` what the device used."""

        def kwh(energy_j: float | None) -> float | None:
            return None if energy_j is None else j_to_kwh(energy_j)

        def kg(grams: float | None) -> float | None:
            return None if grams is None else grams / 1000.0

        share = None
        if self.share is not None:
            share = self.share.to_dict() | {"percent": self.share.fraction * 100.0}
        return {
            "model": self.basis.model,
            "provenance": self.provenance,
            "count": self.count,
            "per": self.per,
            "queries": self.queries,
            "period": "year" if self.per is not None else "total",
            "energy_kwh": kwh(self.energy_facility_j),
            "energy_kwh_low": kwh(self._facility(self.energy_low_j)),
            "energy_kwh_high": kwh(self._facility(self.energy_high_j)),
            "energy_kwh_device": kwh(self.energy_j),
            "energy_scope": self.basis.scope,
            "energy_text": energy_text(self.energy_facility_j),
            "co2e_kg": kg(self.co2e.co2e_g),
            "co2e_kg_low": kg(self._grams(self.energy_low_j)),
            "co2e_kg_high": kg(self._grams(self.energy_high_j)),
            "per_query": self.basis.to_dict(),
            "grid": self.carbon.to_dict()
            | {"description": self.carbon.describe(), "origin": self.grid_origin},
            "equivalents": [e.to_dict() for e in self.equivalents],
            "share_of_generation": share,
        }

    def lines(self) -> list[str]:
        """The footprint in words, one fact a line, for a terminal or a page."""
        b = self.basis
        scope = SCOPE_WORDS[b.scope]
        out = [
            f"{b.model}: one query = {energy_text(b.energy_j)} ({b.provenance}, {scope}); "
            f"{b.source}"
        ]
        if self.per is not None:
            out.append(
                f"{count_text(self.count)} queries a {self.per} = {count_text(self.queries)} a year"
            )
        else:
            out.append(f"{count_text(self.queries)} queries")
        facility = " after the PUE" if self.carbon.pue != 1.0 else ""
        out.append(
            f"energy {self.period_words}: {energy_text(self.energy_facility_j)}{facility} "
            f"({self.provenance}){self._range_text()}"
        )
        low_g, high_g = self._grams(self.energy_low_j), self._grams(self.energy_high_j)
        spread = (
            f" (range {fmt.mass_g(low_g)} to {fmt.mass_g(high_g)})"
            if low_g is not None and high_g is not None and low_g != high_g
            else ""
        )
        out.append(
            f"CO2e {self.period_words}: {fmt.mass_g(self.co2e.co2e_g)}{spread} on "
            f"{self.carbon.describe()} ({self.grid_origin})"
        )
        if self.equivalents:
            out.append("≈ " + " · ".join(e.text() for e in self.equivalents))
            out.append("factors: " + "; ".join(e.citation for e in self.equivalents))
        if self.share is not None:
            out.append(f"= {share_text(self.share)}")
        out.extend(f"note: {note}" for note in b.notes)
        return out

    def _range_text(self) -> str:
        low, high = self._facility(self.energy_low_j), self._facility(self.energy_high_j)
        if low is None or high is None:
            return f"; range {self.basis.range_note}"
        if low == high:
            return f"; {self.basis.range_note}"
        return f", range {energy_text(low)} to {energy_text(high)} ({self.basis.range_note})"

    def relatable(self) -> str:
        """The one equivalent a reader pictures best: households first."""
        return most_relatable(list(self.equivalents), FLEET_ORDER)


def footprint(
    basis: QueryEnergy,
    count: float,
    per: Period | None = None,
    *,
    carbon: CarbonSetting | None = None,
    grid_origin: str = "",
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
) -> Footprint:
    """``count`` queries of ``basis`` (per ``per``, scaled to a year), priced on
    ``carbon`` (else ``carbon_for(basis, country, pue, cloud)``).

    Raises:
        FootprintError: ``count`` is not a finite number above zero, or ``per`` is not
            ``day``, ``week`` or ``year``.
        ConfigError, UnknownCountryError: the grid or PUE asked for is unknown or
            impossible.
    """
    if isinstance(count, bool) or not isinstance(count, int | float):
        raise FootprintError(f"count must be a number of queries, got {count!r}")
    if not math.isfinite(count) or count <= 0:
        raise FootprintError(f"count must be a finite number of queries above 0, got {count!r}")
    if per is not None and per not in PER_YEAR:
        raise FootprintError(f"per must be one of {', '.join(PER_YEAR)}, got {per!r}")
    if carbon is None:
        carbon, grid_origin = carbon_for(basis, country, pue, cloud)
    queries = count * PER_YEAR[per] if per is not None else float(count)

    def scaled(energy_j: float | None) -> float | None:
        return None if energy_j is None else energy_j * queries

    energy_j = basis.energy_j * queries
    co2e = carbon.co2e(energy_j)
    return Footprint(
        basis=basis,
        count=float(count),
        per=per,
        queries=queries,
        carbon=carbon,
        grid_origin=grid_origin,
        energy_j=energy_j,
        energy_low_j=scaled(basis.low_j),
        energy_high_j=scaled(basis.high_j),
        co2e=co2e,
        equivalents=tuple(fleet_equivalents(co2e.energy_j_facility, co2e.co2e_g)),
        share=generation_share(co2e.energy_j_facility, carbon.intensity),
    )


def service_footprint(
    model: str,
    count: float,
    per: Period | None = None,
    *,
    gpu: str = "h100-sxm",
    from_store: bool = False,
    store: str | os.PathLike[str] | None = None,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
    scope: Scope | None = None,
    task: str | None = None,
    batch: int | None = None,
    input_tokens: int | None = None,
    new_tokens: int | None = None,
    image_hw: tuple[int, int] | None = None,
    audio_s: float | None = None,
    protocol: str | None = None,
    num_frames: int | None = None,
    height: int | None = None,
    width: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    calibration: Calibration | Path | None = None,
) -> Footprint:
    """What ``genwatt footprint`` computes: ``count`` queries of ``model`` (per ``per``),
    from a prediction on ``gpu`` or, with ``from_store``, from the stored runs of
    ``store`` (``gpu`` then plays no part: the runs ran where they ran).

    Raises:
        FootprintError: see ``stored_query_energy`` and ``footprint``.
        ConfigError: see ``predicted_query_energy``.
    """
    if from_store:
        ignored = [
            name
            for name, value in (
                ("input_tokens", input_tokens),
                ("image_hw", image_hw),
                ("audio_s", audio_s),
                ("calibration", calibration),
            )
            if value is not None
        ]
        if ignored:
            raise FootprintError(
                f"{', '.join(ignored)} cannot select stored runs (the store keeps the "
                "queries' sizes per run, not as settings); drop them with --from-store"
            )
        basis = stored_query_energy(
            model,
            store,
            task=task,
            batch=batch,
            protocol=protocol,
            new_tokens=new_tokens,
            num_frames=num_frames,
            height=height,
            width=width,
            steps=steps,
            guidance=guidance,
            scope=scope,
        )
    else:
        basis = predicted_query_energy(
            model,
            gpu,
            task=task,
            batch=batch,
            input_tokens=input_tokens,
            new_tokens=new_tokens,
            image_hw=image_hw,
            audio_s=audio_s,
            protocol=protocol,
            num_frames=num_frames,
            height=height,
            width=width,
            steps=steps,
            guidance=guidance,
            scope=scope,
            calibration=calibration,
        )
    return footprint(basis, count, per, country=country, pue=pue, cloud=cloud)


# ------------------------------------------------------------------ words

# (joules per unit, unit), largest first: a service's energy from kWh up to TWh; a single
# query's down to µWh.
_ENERGY_UNITS = (
    (3.6e15, "TWh"),
    (3.6e12, "GWh"),
    (3.6e9, "MWh"),
    (3.6e6, "kWh"),
    (3.6e3, "Wh"),
    (3.6, "mWh"),
)


def energy_text(energy_j: float | None) -> str:
    """``7.04 GWh``: an energy in the unit that keeps its number at least 1 (µWh below
    a mWh), three significant figures, never an exponent."""
    if not fmt.is_number(energy_j):
        return fmt.DASH
    assert energy_j is not None
    if energy_j == 0:
        return "0 Wh"
    for factor, unit in _ENERGY_UNITS:
        if abs(energy_j) >= factor:
            return f"{fmt.sig(energy_j / factor)} {unit}"
    return f"{fmt.sig(energy_j / 3.6e-3)} µWh"


def count_text(count: float) -> str:
    """``40,000,000``; ``2.5`` for a count that is not whole."""
    if float(count).is_integer():
        return f"{count:,.0f}"
    return fmt.sig(count)


def share_text(share: GenerationShare) -> str:
    """``0.0042 % of the yearly electricity generation of France (514 TWh in 2023)``."""
    return (
        f"{fmt.sig(share.fraction * 100.0, 2)} % of the yearly electricity generation of "
        f"{share.name} ({fmt.sig(share.generation_twh)} TWh in {share.year})"
    )


__all__ = [
    "DAYS_PER_YEAR",
    "PER_YEAR",
    "WEEKS_PER_YEAR",
    "Footprint",
    "Period",
    "carbon_for",
    "count_text",
    "energy_text",
    "footprint",
    "generation_share",
    "service_footprint",
    "share_text",
]
