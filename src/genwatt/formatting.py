"""Numbers as a person reads them: three significant figures, human units, no exponents.

Written once here so that a terminal table, an HTML cell and a figure label never
disagree. It sits at the top of the package and imports only ``genwatt.units``, so
the CLI can use it without loading the report (numpy, matplotlib). Energies go
through ``genwatt.units.format_energy_j`` (mWh, Wh, kWh).
"""

from __future__ import annotations

import math

from genwatt.units import format_energy_j

DASH = "—"

# Grams and what a reader recognises at each scale, largest first.
_MASS_UNITS_G = ((1e6, "t"), (1e3, "kg"), (1.0, "g"), (1e-3, "mg"), (1e-6, "µg"))


def is_number(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def sig(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant figures, never with an exponent: a reader is
    shown ``0.0000053`` or ``1,230,000``, not ``5.3e-06`` (callers pick units that keep
    numbers short: ``energy``, ``mass_g``, ``duration``)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, decimals)
    if decimals <= 0:
        return f"{rounded:,.0f}" if abs(rounded) >= 1e6 else f"{rounded:.0f}"
    text = f"{rounded:.{decimals}f}"
    return text.rstrip("0").rstrip(".")


def energy(energy_j: float | None) -> str:
    return format_energy_j(energy_j) if is_number(energy_j) else DASH


def mass_g(mass_g: float | None) -> str:
    """Grams of CO2e in the unit that keeps the number between 1 and 1000."""
    if not is_number(mass_g):
        return DASH
    assert mass_g is not None
    for factor, unit in _MASS_UNITS_G:
        if abs(mass_g) >= factor:
            return f"{sig(mass_g / factor)} {unit}"
    return f"{sig(mass_g / 1e-6)} µg"


def duration(duration_s: float | None) -> str:
    if not is_number(duration_s):
        return DASH
    assert duration_s is not None
    if duration_s >= 3600:
        return f"{sig(duration_s / 3600)} h"
    if duration_s >= 60:
        return f"{sig(duration_s / 60)} min"
    if duration_s >= 1 or duration_s == 0:
        return f"{sig(duration_s)} s"
    return f"{sig(duration_s * 1000)} ms"


def ratio(value: float | None) -> str:
    """``×12.3``: how many times a figure exceeds a reference."""
    return f"×{sig(value)}" if is_number(value) else DASH


def saving(ratio: float | None) -> str:
    """``×2 (−50%)``: how many times less a strategy needs than its reference, and the
    change that is; ``×0.8 (+25%)`` when it needs more (a hook costing more than it saves)."""
    if ratio is None or math.isnan(ratio) or ratio <= 0:
        return DASH
    if math.isinf(ratio):
        return "∞ (−100%)"
    change = round((1 / ratio - 1) * 100)
    sign = "±" if change == 0 else "−" if change < 0 else "+"
    return f"×{sig(ratio)} ({sign}{abs(change)}%)"


# SI prefixes for large counts, largest first.
_SI_PREFIXES = ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"))


def si(value: float, unit: str = "") -> str:
    """``1.23 T`` + ``unit``: the largest SI prefix (up to E) that keeps ``value`` at 1 or
    more, and no prefix below a million."""
    for factor, prefix in _SI_PREFIXES:
        if abs(value) >= factor:
            return f"{sig(value / factor)} {prefix}{unit}"
    return f"{sig(value)} {unit}"


def flops(count: float | None) -> str:
    """``1.23 TFLOP``: a count of floating-point operations (not a rate)."""
    if not is_number(count):
        return DASH
    assert count is not None
    return si(count, "FLOP")


def seconds(duration_s: float) -> str:
    """Seconds as a bare number: whole seconds with thousands separators from 100 s on
    (``1,234``), three significant figures below (``12.3``)."""
    return f"{duration_s:,.0f}" if duration_s >= 100 else sig(duration_s)


def energy_scale(max_energy_j: float) -> tuple[float, str]:
    """(divisor, unit) putting energies up to ``max_energy_j`` on a readable axis."""
    for divisor, unit in ((3.6e6, "kWh"), (3600.0, "Wh"), (1.0, "J"), (1e-3, "mJ")):
        if max_energy_j >= divisor:
            return divisor, unit
    return 1e-3, "mJ"
