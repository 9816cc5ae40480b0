"""The grid tables as a user checks them: every country and cloud region, filtered.

What ``genwatt carbon`` prints (and its ``--json``), kept here so that the same listing
is one call from Python. Rows carry their figure, year and source as shipped, so a user
can hold any CO2e genwatt reports against the published series.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from genwatt.carbon import grid_data
from genwatt.carbon.intensity import WORLD, list_cloud_regions, list_countries

# A filter shorter than this matches codes only: two letters are in too many names.
MIN_NAME_MATCH = 4


@dataclass(frozen=True)
class CountryEntry:
    """One country: codes, name, intensity and generation in its ``year``."""

    iso3: str
    iso2: str
    name: str
    g_per_kwh: float
    year: int
    generation_twh: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CloudRegionEntry:
    """One cloud region: ``provider:region`` key, its country and place, intensity."""

    key: str
    iso3: str
    country: str
    place: str
    g_per_kwh: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GridListing:
    """The world average (how it is computed in ``world_source``) and the matching rows."""

    world_g_per_kwh: float
    world_year: int
    world_source: str
    countries: tuple[CountryEntry, ...]
    cloud_regions: tuple[CloudRegionEntry, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "world": {
                "g_per_kwh": self.world_g_per_kwh,
                "year": self.world_year,
                "source": self.world_source,
            },
            "countries": [c.to_dict() for c in self.countries],
            "cloud_regions": [r.to_dict() for r in self.cloud_regions],
        }


def _matches(text: str, codes: tuple[str, ...], names: tuple[str, ...]) -> bool:
    """Whether ``text`` (upper case) is one of ``codes`` or, when long enough, part of
    one of ``names``."""
    if text in (c.upper() for c in codes):
        return True
    return len(text) >= MIN_NAME_MATCH and any(text in n.upper() for n in names)


def grid_listing(match: str | None = None) -> GridListing:
    """Every shipped country and cloud region, or those that ``match`` names.

    ``match`` (any case) names a row by its alpha-2 or alpha-3 code, its provider
    (``gcp``) or region key, or, from four characters up, by part of its name or key
    (``fra``, ``france``, ``europe``). A cloud region also matches by its country.
    """
    generation = {row.iso3: row.generation_twh for row in grid_data.countries()}
    text = (match or "").strip().upper()
    countries = tuple(
        CountryEntry(c.iso3, c.iso2, c.name, c.g_per_kwh, c.year, generation[c.iso3], c.source)
        for c in list_countries()
        if not text or _matches(text, (c.iso3, c.iso2), (c.name,))
    )
    places = {row.key: row.place for row in grid_data.cloud_regions()}
    aliases = {key: alias for alias, key in grid_data.REGION_ALIASES.items()}
    country_names = {c.iso3: c.name for c in list_countries()}
    regions = tuple(
        CloudRegionEntry(
            r.cloud_region,
            r.iso3,
            country_names[r.iso3],
            places[r.cloud_region],
            r.g_per_kwh,
            r.source,
        )
        for r in list_cloud_regions()
        if not text
        or _matches(
            text,
            (
                r.iso3,
                r.iso2,
                r.cloud_region,
                aliases.get(r.cloud_region, ""),
                r.cloud_region.partition(":")[0],
            ),
            (r.cloud_region, country_names[r.iso3], places[r.cloud_region]),
        )
    )
    return GridListing(WORLD.g_per_kwh, WORLD.year, WORLD.source, countries, regions)
