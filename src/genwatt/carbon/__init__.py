"""Grid carbon intensity and everyday equivalents: joules in, grams of CO2e out.

Standard library only, so importing it costs nothing. The tables are CSV files in
``data/``, read by ``grid_data.py``, with their source, year and licence in
``data/README.md``.
"""

from __future__ import annotations

from genwatt.carbon.equivalents import Equivalent, equivalents
from genwatt.carbon.generation import GenerationShare, share_of_generation
from genwatt.carbon.intensity import (
    ENV_CLOUD,
    ENV_COUNTRY,
    WORLD,
    Co2eResult,
    GridIntensity,
    co2e,
    grid_intensity,
    list_cloud_regions,
    list_countries,
)
from genwatt.carbon.listing import GridListing, grid_listing

__all__ = [
    "ENV_CLOUD",
    "ENV_COUNTRY",
    "WORLD",
    "Co2eResult",
    "Equivalent",
    "GenerationShare",
    "GridIntensity",
    "GridListing",
    "co2e",
    "equivalents",
    "grid_intensity",
    "grid_listing",
    "list_cloud_regions",
    "list_countries",
    "share_of_generation",
]
