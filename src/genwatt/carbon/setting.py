"""One carbon setting per run: the grid and the facility overhead, resolved once.

Every command that shows CO2e resolves the setting the same way (its ``--country`` and
``--pue`` flags, else ``$GENWATT_COUNTRY`` and ``$GENWATT_PUE``, else the world average
and a PUE of 1.0) and stores it with each run it writes. Later figures for that run,
in ``genwatt results``, the report or an export, are computed from the stored setting,
so a run measured "in France" reads as France everywhere, whatever the environment of
the process that reads it. A report asked for another country says so on the figure.

The stored form is a snapshot of the intensity (grams per kWh, source, year), not just
the country code: when the shipped table is revised, runs keep the figure they were
reported with.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from genwatt.carbon.intensity import (
    ENV_COUNTRY,
    WORLD,
    Co2eResult,
    GridIntensity,
    check_pue,
    co2e_on,
    grid_intensity,
)
from genwatt.errors import ConfigError

ENV_PUE = "GENWATT_PUE"

# The key under which a run record's ``extra`` holds its setting.
RECORD_KEY = "carbon"


def _pue_from(pue: float | None) -> float:
    """``pue`` when given, else ``$GENWATT_PUE`` when set and not blank, else 1.0."""
    if pue is not None:
        check_pue(pue)
        return float(pue)
    text = os.environ.get(ENV_PUE, "").strip()
    if not text:
        return 1.0
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"${ENV_PUE} must be a number such as 1.2, got {text!r}") from None
    check_pue(value)
    return value


@dataclass(frozen=True)
class CarbonSetting:
    """The grid a run drew from and the facility overhead on top of its device energy."""

    intensity: GridIntensity
    pue: float = 1.0

    @classmethod
    def resolve(cls, country: str | None = None, pue: float | None = None) -> CarbonSetting:
        """The setting from flags, else the environment, else the world average, PUE 1.

        Raises:
            UnknownCountryError: the country is not in the table (close names suggested).
            ConfigError: the PUE is outside 1.0 to 3.0 or not a number.
        """
        return cls(grid_intensity(country), _pue_from(pue))

    @property
    def is_default(self) -> bool:
        """True when no country was given anywhere: the world average stands in."""
        return self.intensity.is_default

    def co2e(self, energy_j: float) -> Co2eResult:
        """Emissions of ``energy_j`` at the device on this grid, after the PUE.

        A net-of-idle figure can round below zero: emissions of nothing are nothing,
        so negative energies count as zero here; NaN and infinities are a caller's bug.
        """
        if not math.isfinite(energy_j):
            raise ValueError(f"energy_j must be finite, got {energy_j!r}")
        return co2e_on(max(energy_j, 0.0), self.intensity, self.pue)

    def describe(self) -> str:
        """One line for a person: which grid, how many g/kWh, from where, and the PUE."""
        grid = self.intensity
        where = "world average (no country given)" if grid.is_default else grid.name
        return f"{where}, {grid.g_per_kwh:g} g CO2e/kWh ({grid.year}); PUE {self.pue:g}"

    def to_dict(self) -> dict[str, Any]:
        """The snapshot stored with a run (see the module docstring)."""
        grid = self.intensity
        return {
            "country": grid.iso3,
            "country_iso2": grid.iso2,
            "country_name": grid.name,
            "g_per_kwh": grid.g_per_kwh,
            "source": grid.source,
            "year": grid.year,
            "is_default": grid.is_default,
            "pue": self.pue,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CarbonSetting:
        """The setting a run was stored with, exactly as it was then."""
        intensity = GridIntensity(
            iso3=str(data["country"]),
            iso2=str(data.get("country_iso2", "")),
            name=str(data.get("country_name", data["country"])),
            g_per_kwh=float(data["g_per_kwh"]),
            source=str(data.get("source", "")),
            year=int(data.get("year", 0)),
            is_default=bool(data.get("is_default", False)),
        )
        return cls(intensity, float(data.get("pue", 1.0)))


def stored_setting(extra: dict[str, Any]) -> CarbonSetting | None:
    """The setting in a run record's ``extra``, or None for runs stored before it was.

    Runs of ``genwatt measure`` from earlier versions kept only the country code and PUE;
    those are looked up in today's table.
    """
    data = extra.get(RECORD_KEY)
    if isinstance(data, dict) and "g_per_kwh" in data:
        return CarbonSetting.from_dict(data)
    country = extra.get("country")
    if isinstance(country, str) and country:
        intensity = WORLD if country == WORLD.iso3 else grid_intensity(country)
        return CarbonSetting(intensity, float(extra.get("pue") or 1.0))
    return None


def choose_setting(
    stored: CarbonSetting | None, *, country: str | None = None, pue: float | None = None
) -> tuple[CarbonSetting, str]:
    """The setting to price stored runs with, and where its grid came from, in words.

    A ``country`` or ``pue`` asked for now (``genwatt report --country``) replaces that
    part of the runs' own setting; what is not asked for comes from ``stored``; runs
    stored without a setting are priced on the world average with a PUE of 1.0, and
    the words say so. The environment of whoever reads the store plays no part: the
    same run reads the same everywhere.

    Raises:
        UnknownCountryError: ``country`` is not in the table.
        ConfigError: ``pue`` is outside 1.0 to 3.0.
    """
    if country is not None and country.strip():
        intensity, origin = grid_intensity(country), "as asked"
    elif stored is not None:
        intensity, origin = stored.intensity, "stored with the runs"
    else:
        intensity, origin = WORLD, "no country stored with the runs"
    if pue is not None:
        check_pue(pue)
        value = float(pue)
    else:
        value = stored.pue if stored is not None else 1.0
    return CarbonSetting(intensity, value), origin


__all__ = [
    "ENV_COUNTRY",
    "ENV_PUE",
    "RECORD_KEY",
    "CarbonSetting",
    "choose_setting",
    "stored_setting",
]
