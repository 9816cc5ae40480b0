"""An amount of energy as a share of a country's yearly electricity generation.

For fleet figures ("a year of this service is 0.02 % of Ireland's electricity"): the
share is taken of the same series the grid intensities come from (``grid_data``), so a
fleet's energy and its emissions rest on one table and one year per country.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from genwatt.carbon import grid_data
from genwatt.carbon.intensity import country_grid

J_PER_TWH = 3.6e15


@dataclass(frozen=True)
class GenerationShare:
    """``energy_j`` as a ``fraction`` of ``generation_twh``, the country's generation in
    ``year``; ``iso3`` and ``name`` say which country."""

    energy_j: float
    fraction: float
    iso3: str
    name: str
    year: int
    generation_twh: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def share_of_generation(energy_j: float, country: str) -> GenerationShare:
    """``energy_j`` joules as a fraction of ``country``'s yearly electricity generation.

    ``country`` is an ISO 3166 alpha-2 or alpha-3 code or the country's name, in any
    case; no environment variable stands in for it, because a share of "somewhere" means
    nothing.

    Raises:
        UnknownCountryError: the country is not in the table.
        ValueError: ``energy_j`` is negative or not finite (a caller's bug).
    """
    if not math.isfinite(energy_j) or energy_j < 0:
        raise ValueError(f"energy_j must be finite and >= 0, got {energy_j!r}")
    found = country_grid(country)
    row = next(r for r in grid_data.countries() if r.iso3 == found.iso3)
    return GenerationShare(
        energy_j=energy_j,
        fraction=energy_j / (row.generation_twh * J_PER_TWH),
        iso3=row.iso3,
        name=row.name,
        year=row.year,
        generation_twh=row.generation_twh,
        source=grid_data.GENERATION_SOURCE,
    )
