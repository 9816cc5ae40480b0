"""Star ratings: five bands over the energy range that a task's models span.

AI Energy Score (shared/reference/ai_energy_score_protocol.md) cuts the range between
the lowest and the highest GPU energy of a task into five equal-width bands, five
stars for the lowest; text generation is rated within size classes (A up to 20B
parameters, B up to 66B, C larger). ``linear_band_stars`` is that formula.

Equal-width bands in joules let one large model stretch a task's range until every
other model lands in the top band: an 11B multi-purpose model on sentiment gives five
stars to every classifier from 66M to 340M parameters. genwatt reports bands equal in
log energy beside it (``log_band_stars``), which keep a factor of ten visible anywhere in
the range.
"""

from __future__ import annotations

import math
from typing import Literal

STARS = 5

SizeClass = Literal["A", "B", "C"]
# AI Energy Score's text-generation classes, upper bounds in parameters.
SIZE_CLASS_BOUNDS: tuple[tuple[SizeClass, float], ...] = (("A", 20e9), ("B", 66e9))


def _band(share: float) -> int:
    return STARS - min(STARS - 1, max(0, math.floor(share * STARS)))


def linear_band_stars(energy_j: float, low_j: float, high_j: float) -> int:
    """AI Energy Score's stars: 5 in the lowest fifth of ``[low_j, high_j]``, 1 in the top."""
    if not low_j < high_j:
        return STARS
    return _band((energy_j - low_j) / (high_j - low_j))


def log_band_stars(energy_j: float, low_j: float, high_j: float) -> int:
    """genwatt's stars: the same five bands, equal in log energy."""
    if not 0 < low_j < high_j:
        return STARS
    share = (math.log(energy_j) - math.log(low_j)) / (math.log(high_j) - math.log(low_j))
    return _band(share)


def log_band_edges_j(low_j: float, high_j: float) -> list[float]:
    """The ``STARS + 1`` edges of the log bands, lowest energy first."""
    if not 0 < low_j < high_j:
        return [low_j, high_j]
    step = (math.log(high_j) - math.log(low_j)) / STARS
    return [math.exp(math.log(low_j) + i * step) for i in range(STARS + 1)]


def size_class(params: float | None) -> SizeClass | None:
    """AI Energy Score's size class of a text-generation model (None: size unknown)."""
    if params is None:
        return None
    for name, bound in SIZE_CLASS_BOUNDS:
        if params <= bound:
            return name
    return "C"
