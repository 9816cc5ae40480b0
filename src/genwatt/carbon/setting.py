"""One carbon setting per run: the grid and the facility overhead, resolved once.

Every command that shows CO2e resolves the setting the same way (its ``--country`` or
``--cloud`` and ``--pue`` flags, else ``$GENWATT_COUNTRY`` or ``$GENWATT_CLOUD`` and
``$GENWATT_PUE``, else the world average and a PUE of 1.0) and stores it with each run
it writes. Later figures for that run,
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
    ENV_CLOUD,
    ENV_COUNTRY,
    WORLD,
    Co2eResult,
    GridIntensity,
    check_pue,
    chosen_grid,
    co2e_on,
    grid_intensity,
)
from genwatt.errors import ConfigError, GenwattError

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
    def resolve(
        cls, country: str | None = None, pue: float | None = None, *, cloud: str | None = None
    ) -> CarbonSetting:
        """The setting from flags, else the environment, else the world average, PUE 1.

        Raises:
            UnknownCountryError: the country or cloud region is not in the tables (close
                names suggested).
            ConfigError: the PUE is outside 1.0 to 3.0 or not a number, or a country and
                a cloud region are both given.
        """
        return cls(grid_intensity(country, cloud=cloud), _pue_from(pue))

    @property
    def is_default(self) -> bool:
        """True when no grid was given anywhere: the world average stands in."""
        return self.intensity.is_default

    def co2e(self, energy_j: float) -> Co2eResult:
        """Emissions of ``energy_j`` at the device on this grid, after the PUE.

        A net-of-idle figure can round below zero: emissions of nothing are nothing,
        so negative energies count as zero here; NaN and infinities are a caller's bug.
        """
        if not math.isfinite(energy_j):
            raise ValueError(f"energy_j must be finite, got {energy_j!r}")
        return co2e_on(max(energy_j, 0.0), self.intensity, self.pue)

    def co2e_g(self, energy_j: float | None) -> float | None:
        """Grams of CO2e of ``energy_j``, or None when there is no finite figure to price
        (a prediction without one, a run without windows): unknown, never zero."""
        if energy_j is None or not math.isfinite(energy_j):
            return None
        return self.co2e(energy_j).co2e_g

    def describe(self) -> str:
        """One line for a person: which grid, how many g/kWh, from when, and the PUE.

        The world average says that it is computed (``GridIntensity.source`` says how);
        a cloud region's source states no year, so none is shown."""
        grid = self.intensity
        if grid.is_default:
            where = "world average (no country given; generation-weighted over every country)"
        else:
            where = grid.name
        when = f" ({grid.year})" if grid.year else ""
        return f"{where}, {grid.g_per_kwh:.0f} g CO2e/kWh{when}; PUE {self.pue:g}"

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
            "cloud_region": grid.cloud_region,
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
            cloud_region=str(data.get("cloud_region") or ""),
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
    stored: CarbonSetting | None,
    *,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
) -> tuple[CarbonSetting, str]:
    """The setting to price stored runs with, and where its grid came from, in words.

    A ``country`` or ``cloud`` region or a ``pue`` asked for now (``genwatt report
    --country``) replaces that
    part of the runs' own setting; what is not asked for comes from ``stored``; runs
    stored without a setting are priced on the world average with a PUE of 1.0, and
    the words say so. The environment of whoever reads the store plays no part: the
    same run reads the same everywhere.

    Raises:
        UnknownCountryError: ``country`` or ``cloud`` is not in the tables.
        ConfigError: ``pue`` is outside 1.0 to 3.0, or ``country`` and ``cloud`` are
            both given.
    """
    asked = chosen_grid(country, cloud)
    if asked is not None:
        intensity, origin = asked, "as asked"
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


def stored_run_co2e(
    extra: dict[str, Any],
    energy_j: float | None,
    *,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
) -> tuple[float | None, str]:
    """A stored run's gross CO2e in grams, on its own setting (``choose_setting``), and
    that setting in words; None when the run has no finite energy, and None with the
    reason as the words when its stored country is unknown to this version. What the
    report's commands table and the exports show, one computation for both."""
    try:
        setting, origin = choose_setting(
            stored_setting(extra), country=country, pue=pue, cloud=cloud
        )
    except GenwattError as exc:
        return None, str(exc)
    return setting.co2e_g(energy_j), f"{setting.describe()}: {origin}"


__all__ = [
    "ENV_CLOUD",
    "ENV_COUNTRY",
    "ENV_PUE",
    "RECORD_KEY",
    "CarbonSetting",
    "choose_setting",
    "stored_run_co2e",
    "stored_setting",
]
