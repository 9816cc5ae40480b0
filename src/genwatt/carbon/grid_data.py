"""The grid tables shipped in ``data/``, read once: countries, cloud regions, ISO codes.

Why CSV files rather than a Python table: the series are copied value for value from
their published source (``data/README.md`` names it: Ember and the Energy Institute via
Our World in Data, as compiled by CodeCarbon, MIT licence; Google Cloud's published
region intensities), so that a test can prove they still agree and a revision is a file
replaced, never figures retyped. The alpha-2 codes are not in the series; they come from
ISO 3166-1, written into ``data/iso3166_alpha2.csv``.

Each country keeps its own latest year (most are 2022 or 2023). The world average is not
a figure of its own: it is computed here from the same rows, weighted by each country's
generation, so that it moves with the table.
"""

from __future__ import annotations

import csv
import functools
from importlib import resources
from typing import NamedTuple

SOURCE = (
    "Ember and Energy Institute, processed by Our World in Data "
    '("Carbon intensity of electricity generation", gCO2e/kWh, lifecycle), '
    "as compiled by CodeCarbon (MIT licence)"
)
GENERATION_SOURCE = (
    "Ember and Energy Institute, processed by Our World in Data "
    '("Electricity generation", TWh), as compiled by CodeCarbon (MIT licence)'
)
URL = "https://ourworldindata.org/grapher/carbon-intensity-electricity"

COUNTRIES_FILE = "country_electricity.csv"
CLOUD_REGIONS_FILE = "cloud_regions.csv"
ALPHA2_FILE = "iso3166_alpha2.csv"

# The source's spelling of a region, for the spelling its provider uses (data/README.md).
REGION_ALIASES = {"gcp:me-central1": "gcp:me-cenrtal1"}


class CountryRow(NamedTuple):
    """One country of the series: ISO 3166 codes, its English name as the series writes
    it, the year of its figures, gCO2e per kWh generated and TWh generated that year."""

    iso3: str
    iso2: str
    name: str
    year: int
    g_per_kwh: float
    generation_twh: float


class CloudRegionRow(NamedTuple):
    """One cloud region: ``provider:region`` key, its country, place and intensity."""

    provider: str
    region: str
    iso3: str
    place: str
    g_per_kwh: float
    source: str

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.region}"


class WorldAverage(NamedTuple):
    """The generation-weighted mean of every country's intensity, and what it spans."""

    g_per_kwh: float
    countries: int
    first_year: int
    last_year: int


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("genwatt.carbon").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@functools.cache
def alpha2_codes() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code by alpha-3 code, for the countries of the series."""
    return {row["iso3"]: row["iso2"] for row in _read(ALPHA2_FILE)}


@functools.cache
def countries() -> tuple[CountryRow, ...]:
    """Every country of the shipped series, in the file's order (by alpha-3 code)."""
    iso2 = alpha2_codes()
    return tuple(
        CountryRow(
            iso3=row["iso3"],
            iso2=iso2[row["iso3"]],
            name=row["country"],
            year=int(row["year"]),
            g_per_kwh=float(row["carbon_intensity_g_per_kwh"]),
            generation_twh=float(row["generation_twh"]),
        )
        for row in _read(COUNTRIES_FILE)
    )


@functools.cache
def cloud_regions() -> tuple[CloudRegionRow, ...]:
    """Every cloud region of the shipped table, in the file's order."""
    return tuple(
        CloudRegionRow(
            provider=row["provider"],
            region=row["region"],
            iso3=row["country_iso3"],
            place=", ".join(p for p in (row["city"], row["state"]) if p),
            g_per_kwh=float(row["carbon_intensity_g_per_kwh"]),
            source=row["source"],
        )
        for row in _read(CLOUD_REGIONS_FILE)
    )


@functools.cache
def world_average() -> WorldAverage:
    """Sum of intensity x generation over the sum of generation, over every country."""
    rows = countries()
    generation_twh = sum(r.generation_twh for r in rows)
    weighted = sum(r.g_per_kwh * r.generation_twh for r in rows)
    years = [r.year for r in rows]
    return WorldAverage(weighted / generation_twh, len(rows), min(years), max(years))
