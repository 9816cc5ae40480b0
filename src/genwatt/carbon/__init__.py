"""Grid carbon intensity and everyday equivalents: joules in, grams of CO2e out.

Standard library only, so importing it costs nothing; the table lives in
``grid_data.py`` with its citation.
"""

from __future__ import annotations

from genwatt.carbon.equivalents import Equivalent, equivalents
from genwatt.carbon.intensity import (
    ENV_COUNTRY,
    WORLD,
    Co2eResult,
    GridIntensity,
    co2e,
    grid_intensity,
    list_countries,
)

__all__ = [
    "ENV_COUNTRY",
    "WORLD",
    "Co2eResult",
    "Equivalent",
    "GridIntensity",
    "co2e",
    "equivalents",
    "grid_intensity",
    "list_countries",
]
