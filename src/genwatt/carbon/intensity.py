"""From joules to grams of CO2e: a country's grid intensity and the facility overhead.

The country comes from the argument, else the ``GENWATT_COUNTRY`` environment
variable, else the world average of the same source and year. The result says which
(``is_default``), so a figure computed without a location is never mistaken for one
that had one.
"""

from __future__ import annotations

import difflib
import math
import os
from dataclasses import asdict, dataclass
from typing import Any

from genwatt.carbon import grid_data
from genwatt.errors import ConfigError, UnknownCountryError
from genwatt.units import j_to_kwh

ENV_COUNTRY = "GENWATT_COUNTRY"

PUE_MIN = 1.0
PUE_MAX = 3.0


@dataclass(frozen=True)
class GridIntensity:
    """Carbon intensity of one grid, with where the figure comes from.

    ``is_default`` is true only for the world average used because no country was
    given; the world has no ISO 3166 code, so its ``iso3`` is the World Bank's
    ``WLD`` and its ``iso2`` is empty.
    """

    iso3: str
    iso2: str
    name: str
    g_per_kwh: float
    source: str
    year: int
    is_default: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Co2eResult:
    """Emissions of an amount of energy on a grid, after facility overhead.

    ``energy_j`` is the energy at the device as given; ``energy_j_facility`` is that
    times ``pue``, the energy the grid actually delivered; ``co2e_g`` is computed from
    the latter.
    """

    co2e_g: float
    energy_j: float
    energy_j_facility: float
    intensity: GridIntensity
    pue: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _to_intensity(row: grid_data.CountryRow) -> GridIntensity:
    return GridIntensity(
        iso3=row.iso3,
        iso2=row.iso2,
        name=row.name,
        g_per_kwh=row.g_per_kwh,
        source=grid_data.SOURCE,
        year=grid_data.YEAR,
    )


_COUNTRIES: tuple[GridIntensity, ...] = tuple(_to_intensity(r) for r in grid_data.COUNTRIES)
# Alpha-2 and alpha-3 codes differ in length, so one index serves both.
_BY_CODE: dict[str, GridIntensity] = {code: c for c in _COUNTRIES for code in (c.iso3, c.iso2)}

WORLD = GridIntensity(
    iso3="WLD",
    iso2="",
    name="World",
    g_per_kwh=grid_data.WORLD_G_PER_KWH,
    source=grid_data.SOURCE,
    year=grid_data.YEAR,
    is_default=True,
)


def list_countries() -> list[GridIntensity]:
    """Every country with a known intensity, sorted by alpha-3 code (world excluded)."""
    return sorted(_COUNTRIES, key=lambda c: c.iso3)


# Codes in everyday (EU) use that ISO 3166 reserves but does not assign. They are
# only suggested, never accepted, so that every accepted code is an ISO one.
_NON_ISO_HINTS = {"UK": "GBR", "EL": "GRC"}


def _suggestions(code: str) -> list[str]:
    """Close matches among codes and names, as ``"DEU (Germany)"``, best first.

    Names are searched too because a user who types ``germany`` should be pointed at
    the code they meant.
    """
    by_key: dict[str, GridIntensity] = dict(_BY_CODE)
    by_key.update({c.name.upper(): c for c in _COUNTRIES})
    matches = difflib.get_close_matches(code, list(by_key), n=6, cutoff=0.6)
    if code in _NON_ISO_HINTS:
        matches.insert(0, _NON_ISO_HINTS[code])
    found: list[str] = []
    for key in matches:
        label = f"{by_key[key].iso3} ({by_key[key].name})"
        if label not in found:
            found.append(label)
    return found[:3]


def _unknown(code: str, origin: str) -> UnknownCountryError:
    hint = _suggestions(code)
    did_you_mean = f" Did you mean {', '.join(hint)}?" if hint else ""
    return UnknownCountryError(
        f"No grid carbon intensity for country {code!r} ({origin}).{did_you_mean} "
        "Use an ISO 3166 alpha-2 or alpha-3 code (e.g. FR or FRA); "
        "genwatt.carbon.list_countries() lists the "
        f"{len(_COUNTRIES)} known countries, or leave the country unset to use the "
        f"world average ({grid_data.WORLD_G_PER_KWH:g} g/kWh)."
    )


def grid_intensity(country: str | None = None) -> GridIntensity:
    """The grid intensity for ``country``, else ``$GENWATT_COUNTRY``, else the world.

    ``country`` is an ISO 3166 alpha-2 or alpha-3 code in any case (``FR``, ``fra``).
    A blank string counts as not given, so an empty CLI option or an exported but
    empty variable falls through to the next choice rather than failing.

    Raises:
        UnknownCountryError: the code is not in the table; the message suggests close
            matches.
    """
    origin = "given as an argument"
    if country is None or not country.strip():
        country = os.environ.get(ENV_COUNTRY)
        origin = f"from ${ENV_COUNTRY}"
    if country is None or not country.strip():
        return WORLD
    code = country.strip().upper()
    found = _BY_CODE.get(code)
    if found is None:
        raise _unknown(code, origin)
    return found


def check_pue(pue: float) -> None:
    """Raise ConfigError unless ``pue`` is a number from 1.0 to 3.0."""
    if not PUE_MIN <= pue <= PUE_MAX:  # also rejects NaN
        raise ConfigError(
            f"PUE must be between {PUE_MIN:g} and {PUE_MAX:g}, got {pue!r}. "
            "Use 1.0 for energy at the device only; a typical data centre is about 1.5, "
            "a large cloud provider about 1.1."
        )


def co2e(energy_j: float, country: str | None = None, pue: float = 1.0) -> Co2eResult:
    """Grams of CO2e for ``energy_j`` joules drawn from ``country``'s grid.

    ``pue`` (power usage effectiveness) multiplies the device energy by the facility's
    overhead: cooling, power conversion, lighting. ``1.0`` means "energy at the
    device, no facility overhead", which is what genwatt measures, and is the
    default so that no overhead is assumed silently. For guidance: the Uptime
    Institute Global Data Center Survey 2024 reports an industry-wide average annual
    PUE of about 1.56; large hyperscale fleets report about 1.1 (Google's 2024
    Environmental Report: 1.10 fleet-wide for 2023). Allowed range: 1.0 to 3.0.

    Args:
        energy_j: energy at the device, in joules; finite and not negative.
        country: ISO 3166 alpha-2 or alpha-3 code; see :func:`grid_intensity` for the
            fallbacks when it is ``None``.
        pue: facility overhead multiplier, 1.0 to 3.0.

    Raises:
        UnknownCountryError: the country code is not known.
        ConfigError: ``pue`` is outside 1.0 to 3.0.
        ValueError: ``energy_j`` is negative or not finite (a caller's bug; clamp a
            net-of-idle figure at zero before asking for its emissions).
    """
    return co2e_on(energy_j, grid_intensity(country), pue)


def co2e_on(energy_j: float, intensity: GridIntensity, pue: float = 1.0) -> Co2eResult:
    """Grams of CO2e for ``energy_j`` joules on an already resolved grid; see :func:`co2e`."""
    if not math.isfinite(energy_j) or energy_j < 0:
        raise ValueError(f"energy_j must be finite and >= 0, got {energy_j!r}")
    check_pue(pue)
    energy_j_facility = energy_j * pue
    return Co2eResult(
        co2e_g=j_to_kwh(energy_j_facility) * intensity.g_per_kwh,
        energy_j=energy_j,
        energy_j_facility=energy_j_facility,
        intensity=intensity,
        pue=pue,
    )
