"""How measured, estimated and predicted values look, in figures and in tables.

A reader must never take an estimate for a measurement, so provenance is carried by
shape and line, not by colour alone (colour is for the series or the phase, and is
lost on a black-and-white printout): filled markers and solid lines are measured,
hollow markers, dotted lines and hatched bars estimated, dashed lines and unfilled
dashed bars predicted. Every figure also names the provenance in its legend and
caption. Defined once here so figures, tables and the page's key cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from genwatt.meter.result import Provenance

MEASURED = str(Provenance.MEASURED)
ESTIMATED = str(Provenance.ESTIMATED)
PREDICTED = str(Provenance.PREDICTED)
ORDER = (MEASURED, ESTIMATED, PREDICTED)


@dataclass(frozen=True)
class Look:
    """The drawing conventions of one provenance (matplotlib names) and its meaning."""

    provenance: str
    symbol: str  # the same mark in text: table cells and the page's key
    marker_filled: bool
    linestyle: str
    hatch: str | None
    bar_filled: bool
    meaning: str


LOOKS: dict[str, Look] = {
    MEASURED: Look(
        provenance=MEASURED,
        symbol="●",
        marker_filled=True,
        linestyle="-",
        hatch=None,
        bar_filled=True,
        meaning="read from a hardware energy counter or power sensor (NVML, RAPL, amdsmi)",
    ),
    ESTIMATED: Look(
        provenance=ESTIMATED,
        symbol="○",
        marker_filled=False,
        linestyle=":",
        hatch="////",
        bar_filled=True,
        meaning="computed from a power model (TDP × utilisation, W per GB of DRAM) "
        "because no counter was available for at least one domain",
    ),
    PREDICTED: Look(
        provenance=PREDICTED,
        symbol="┄",
        marker_filled=False,
        linestyle="--",
        hatch=None,
        bar_filled=False,
        meaning="from genwatt's analytical model (FLOPs and a GPU calibration), "
        "not from running anything",
    ),
}


def look(provenance: str | None) -> Look:
    """The look of ``provenance``; an unknown or missing one is shown as estimated."""
    return LOOKS.get(str(provenance), LOOKS[ESTIMATED])


def weakest(kinds: list[str]) -> str:
    """The least trustworthy of ``kinds``: a total is only as good as that."""
    known = [k for k in kinds if k in ORDER] or [ESTIMATED]
    return max(known, key=ORDER.index)
