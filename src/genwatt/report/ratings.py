"""Star ratings in the style of AI Energy Score: five bands over a task's observed range.

AI Energy Score (Hugging Face, 2025) gives each model of a task one to five stars by
where its energy falls within the range that the task's models span, five for the most
frugal. genwatt does the same over what a store holds, with one change: the bands are
equal in *log* energy. Stored configurations of generative models span orders of
magnitude (a 5-frame clip and an 81-frame one), and equal bands in joules would give
five stars to everything but the few largest.

Ratings are relative: they compare the rows of one task in one report, whatever the
hardware, and only once at least ``MIN_MODELS`` models of that task are stored (with
one model there is nothing to compare against but its own settings).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from genwatt.analysis.stars import STARS
from genwatt.analysis.stars import log_band_edges_j as band_edges_j
from genwatt.analysis.stars import log_band_stars as stars

MIN_MODELS = 2

__all__ = ["MIN_MODELS", "STARS", "band_edges_j", "rate", "star_text", "stars"]


def rate(rows: Sequence[tuple[str, str, float]]) -> list[int | None]:
    """Stars for each ``(task, model, energy_j)``; None where its task has too few models."""
    by_task: dict[str, list[tuple[str, float]]] = {}
    for task, model, energy_j in rows:
        if energy_j > 0 and math.isfinite(energy_j):
            by_task.setdefault(task, []).append((model, energy_j))
    ranges = {
        task: (min(e for _, e in members), max(e for _, e in members))
        for task, members in by_task.items()
        if len({m for m, _ in members}) >= MIN_MODELS
    }
    result: list[int | None] = []
    for task, _, energy_j in rows:
        bounds = ranges.get(task)
        usable = bounds is not None and energy_j > 0 and math.isfinite(energy_j)
        result.append(stars(energy_j, *bounds) if usable and bounds else None)
    return result


def star_text(count: int | None) -> str:
    return "—" if count is None else "★" * count + "☆" * (STARS - count)
