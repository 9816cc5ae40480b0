"""From joules to grams of CO2e: the grid a run draws from and the facility overhead.

The grid is a country (ISO 3166 alpha-2 or alpha-3 code, or its name) or a cloud region
(``PROVIDER:REGION``), from the arguments, else ``$GENWATT_CLOUD`` or
``$GENWATT_COUNTRY``, else the world average of the same series. Naming two grids at
once is refused rather than resolved by a rule the user would have to guess. The result
says which grid it is (``is_default`` for the world, ``cloud_region`` for a region), so
a figure computed without a location is never mistaken for one that had one.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import Any

from genwatt.carbon import grid_data
from genwatt.errors import ConfigError, UnknownCountryError
from genwatt.suggest import close_names
from genwatt.units import j_to_kwh

ENV_COUNTRY = "GENWATT_COUNTRY"
ENV_CLOUD = "GENWATT_CLOUD"

PUE_MIN = 1.0
PUE_MAX = 3.0


@dataclass(frozen=True)
class GridIntensity:
    """Carbon intensity of one grid, with where the figure comes from.

    ``is_default`` is true only for the world average used because no grid was given;
    the world has no ISO 3166 code, so its ``iso3`` is the World Bank's ``WLD`` and its
    ``iso2`` is empty. A cloud region has its ``cloud_region`` (``gcp:europe-west1``)
    and its country's codes; ``year`` is 0 where the source states none.
    """

    iso3: str
    iso2: str
    name: str
    g_per_kwh: float
    source: str
    year: int
    is_default: bool = False
    cloud_region: str = ""

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


def _country(row: grid_data.CountryRow) -> GridIntensity:
    return GridIntensity(
        iso3=row.iso3,
        iso2=row.iso2,
        name=row.name,
        g_per_kwh=row.g_per_kwh,
        source=grid_data.SOURCE,
        year=row.year,
    )


_COUNTRIES: tuple[GridIntensity, ...] = tuple(_country(r) for r in grid_data.countries())
# Alpha-2 and alpha-3 codes differ in length, and every name is longer, so one index
# (upper case) serves all three.
_BY_CODE: dict[str, GridIntensity] = {
    key.upper(): c for c in _COUNTRIES for key in (c.iso3, c.iso2, c.name)
}
_BY_ISO3: dict[str, GridIntensity] = {c.iso3: c for c in _COUNTRIES}


def _region(row: grid_data.CloudRegionRow) -> GridIntensity:
    country = _BY_ISO3[row.iso3]
    return GridIntensity(
        iso3=country.iso3,
        iso2=country.iso2,
        name=f"{row.key} ({country.name})",
        g_per_kwh=row.g_per_kwh,
        source=row.source,
        year=0,
        cloud_region=row.key,
    )


_REGIONS: tuple[GridIntensity, ...] = tuple(_region(r) for r in grid_data.cloud_regions())
_BY_REGION: dict[str, GridIntensity] = {r.cloud_region: r for r in _REGIONS}
_BY_REGION.update({alias: _BY_REGION[key] for alias, key in grid_data.REGION_ALIASES.items()})

_WORLD_MEAN = grid_data.world_average()
WORLD = GridIntensity(
    iso3="WLD",
    iso2="",
    name="World",
    g_per_kwh=_WORLD_MEAN.g_per_kwh,
    source=(
        f"generation-weighted mean of the {_WORLD_MEAN.countries} countries' latest years "
        f"({_WORLD_MEAN.first_year}-{_WORLD_MEAN.last_year}) of: {grid_data.SOURCE}"
    ),
    year=_WORLD_MEAN.last_year,
    is_default=True,
)


def list_countries() -> list[GridIntensity]:
    """Every country with a known intensity, sorted by alpha-3 code (world excluded)."""
    return sorted(_COUNTRIES, key=lambda c: c.iso3)


def list_cloud_regions() -> list[GridIntensity]:
    """Every cloud region with a known intensity, sorted by ``provider:region``."""
    return sorted(_REGIONS, key=lambda r: r.cloud_region)


# Codes in everyday (EU) use that ISO 3166 reserves but does not assign. They are
# only suggested, never accepted, so that every accepted code is an ISO one.
_NON_ISO_HINTS = {"UK": "GBR", "EL": "GRC"}


def _label(country: GridIntensity) -> str:
    return f"{country.iso3} ({country.name})"


def _suggestions(code: str) -> list[str]:
    """Close matches among codes and names, as ``"DEU (Germany)"``, best first.

    Names are searched too because a user who types ``germanie`` should be pointed at
    the code they meant.
    """
    labels = {key: _label(c) for key, c in _BY_CODE.items()}
    found = close_names(code, labels, cutoff=0.6)
    if code in _NON_ISO_HINTS:
        hint = _label(_BY_ISO3[_NON_ISO_HINTS[code]])
        found = [hint, *(f for f in found if f != hint)][:3]
    return found


def _unknown(code: str, origin: str) -> UnknownCountryError:
    hint = _suggestions(code)
    did_you_mean = f" Did you mean {', '.join(hint)}?" if hint else ""
    return UnknownCountryError(
        f"No grid carbon intensity for country {code!r} ({origin}).{did_you_mean} "
        "Use an ISO 3166 alpha-2 or alpha-3 code or the English name (e.g. FR, FRA or "
        f"France); `genwatt carbon` (in Python, genwatt.carbon.list_countries()) lists the "
        f"{len(_COUNTRIES)} known countries, or leave the country unset to use the "
        f"world average ({WORLD.g_per_kwh:.0f} g/kWh)."
    )


def _unknown_region(spec: str, origin: str) -> UnknownCountryError:
    keys = {key: _BY_REGION[key].cloud_region for key in _BY_REGION}
    hint = close_names(spec.lower(), keys, cutoff=0.6)
    did_you_mean = f" Did you mean {', '.join(hint)}?" if hint else ""
    return UnknownCountryError(
        f"No grid carbon intensity for cloud region {spec!r} ({origin}).{did_you_mean} "
        "Use PROVIDER:REGION (e.g. gcp:europe-west1); `genwatt carbon` lists the "
        f"{len(_REGIONS)} known regions."
    )


def country_grid(code: str, origin: str = "given as an argument") -> GridIntensity:
    """The country of an alpha-2 or alpha-3 code or a name, in any case; no fallbacks.

    Raises:
        UnknownCountryError: not in the table; the message suggests close matches.
    """
    found = _BY_CODE.get(code.strip().upper())
    if found is None:
        raise _unknown(code.strip().upper(), origin)
    return found


def _by_region(spec: str, origin: str) -> GridIntensity:
    found = _BY_REGION.get(spec.strip().lower())
    if found is None:
        raise _unknown_region(spec.strip(), origin)
    return found


def _given(value: str | None) -> bool:
    return value is not None and bool(value.strip())


def _one_grid(
    country: str | None, cloud: str | None, origins: tuple[str, str]
) -> GridIntensity | None:
    """The grid named by ``country`` or ``cloud`` (None when neither is); both is an error."""
    if _given(country) and _given(cloud):
        raise ConfigError(
            f"both a country ({origins[0]}) and a cloud region ({origins[1]}) name the grid; "
            "give one: the cloud region when the machine is in one, else the country"
        )
    if cloud is not None and _given(cloud):
        return _by_region(cloud, origins[1])
    if country is not None and _given(country):
        return country_grid(country, origins[0])
    return None


def chosen_grid(country: str | None = None, cloud: str | None = None) -> GridIntensity | None:
    """The grid named by a ``country`` or ``cloud`` region given now (blank counts as not
    given), without reading the environment; None when neither is given.

    Raises:
        UnknownCountryError: the country or region is not in the tables.
        ConfigError: both are given.
    """
    return _one_grid(country, cloud, ("--country", "--cloud"))


def grid_intensity(country: str | None = None, *, cloud: str | None = None) -> GridIntensity:
    """The grid of ``country`` or ``cloud``, else ``$GENWATT_COUNTRY`` or
    ``$GENWATT_CLOUD``, else the world.

    ``country`` is an ISO 3166 alpha-2 or alpha-3 code or the country's name, in any case
    (``FR``, ``fra``, ``france``); ``cloud`` is ``PROVIDER:REGION``
    (``gcp:europe-west1``). A blank string counts as not given, so an empty CLI option
    or an exported but empty variable falls through to the next choice rather than
    failing. A grid given as an argument wins over both variables.

    Raises:
        UnknownCountryError: the country or region is not in the tables; the message
            suggests close matches.
        ConfigError: a country and a cloud region are both given (as arguments, or both
            variables set).
    """
    found = _one_grid(country, cloud, ("given as an argument", "given as an argument"))
    if found is None:
        found = _one_grid(
            os.environ.get(ENV_COUNTRY),
            os.environ.get(ENV_CLOUD),
            (f"from ${ENV_COUNTRY}", f"from ${ENV_CLOUD}"),
        )
    return WORLD if found is None else found


def check_pue(pue: float) -> None:
    """Raise ConfigError unless ``pue`` is a number from 1.0 to 3.0."""
    if not PUE_MIN <= pue <= PUE_MAX:  # also rejects NaN
        raise ConfigError(
            f"PUE must be between {PUE_MIN:g} and {PUE_MAX:g}, got {pue!r}. "
            "Use 1.0 for energy at the device only; a typical data centre is about 1.5, "
            "a large cloud provider about 1.1."
        )


def co2e(
    energy_j: float, country: str | None = None, pue: float = 1.0, *, cloud: str | None = None
) -> Co2eResult:
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
        country: ISO 3166 alpha-2 or alpha-3 code or name; see :func:`grid_intensity`
            for the fallbacks when it is ``None``.
        pue: facility overhead multiplier, 1.0 to 3.0.
        cloud: a cloud region, ``PROVIDER:REGION``, instead of a country.

    Raises:
        UnknownCountryError: the country code or cloud region is not known.
        ConfigError: ``pue`` is outside 1.0 to 3.0, or a country and a cloud region are
            both given.
        ValueError: ``energy_j`` is negative or not finite (a caller's bug; clamp a
            net-of-idle figure at zero before asking for its emissions).
    """
    return co2e_on(energy_j, grid_intensity(country, cloud=cloud), pue)


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
