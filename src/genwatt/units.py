"""Unit conversions for the edges of the program.

Internally every energy is in joules and every duration in seconds; Wh, kWh and grams
of CO2e appear only when a figure is shown to a person or exported.
"""

from __future__ import annotations

J_PER_WH = 3600.0
J_PER_KWH = 3.6e6


def j_to_wh(energy_j: float) -> float:
    return energy_j / J_PER_WH


def j_to_kwh(energy_j: float) -> float:
    return energy_j / J_PER_KWH


def wh_to_j(energy_wh: float) -> float:
    return energy_wh * J_PER_WH


def kwh_to_j(energy_kwh: float) -> float:
    return energy_kwh * J_PER_KWH


def format_energy_j(energy_j: float) -> str:
    """A human-scale string: mWh for tiny figures, Wh, then kWh."""
    wh = j_to_wh(energy_j)
    if abs(wh) >= 1000:
        return f"{wh / 1000:.3g} kWh"
    if abs(wh) >= 1:
        return f"{wh:.3g} Wh"
    return f"{wh * 1000:.3g} mWh"
