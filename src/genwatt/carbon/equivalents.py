"""Everyday equivalents of an energy or emission figure, each factor with its source.

A reader cannot picture 40 Wh or 19 g of CO2e; a phone charge or a kilometre driven
they can. Each equivalent says whether it compares *energy* or *emissions*, because
the two disagree as soon as the grid is not average: on a clean grid a generation may
cost many phone charges yet few metres of driving.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from genwatt.units import j_to_kwh

# --- Smartphone charge (energy) ---------------------------------------------------
# US EPA, Greenhouse Gas Equivalencies Calculator, "Calculations and References",
# "Number of smartphones charged": about 0.012 kWh per full charge, as used by
# Luccioni, Jernite and Strubell (2024), "Power Hungry Processing: Watts Driving the
# Cost of AI Deployment?", ACM FAccT '24. Later editions of the calculator revise the
# figure; we keep 0.012 kWh to stay comparable with that paper.
# https://www.epa.gov/energy/greenhouse-gas-equivalencies-calculator-calculations-and-references
SMARTPHONE_CHARGE_KWH = 0.012
SMARTPHONE_CITATION = (
    "US EPA, Greenhouse Gas Equivalencies Calculator (0.012 kWh per smartphone charge), "
    'as used in Luccioni et al. 2024, "Power Hungry Processing", ACM FAccT'
)

# --- Driving an average petrol car (emissions) ------------------------------------
# US EPA, "Greenhouse Gas Emissions from a Typical Passenger Vehicle" (2023 update):
# about 400 g of CO2 per mile from the tailpipe of a typical petrol passenger vehicle.
# The factor is CO2 only; the same page notes that methane, nitrous oxide and
# refrigerant leaks add a small share on top, so dividing a CO2e figure by it slightly
# overstates the distance. It is an emissions equivalent, not an energy one.
# https://www.epa.gov/greenhouse-gas-emissions-typical-passenger-vehicle
CAR_CO2_G_PER_MILE = 400.0
M_PER_MILE = 1609.344
CAR_CO2_G_PER_KM = CAR_CO2_G_PER_MILE / (M_PER_MILE / 1000.0)  # about 248.5
CAR_CITATION = (
    'US EPA, "Greenhouse Gas Emissions from a Typical Passenger Vehicle" (2023): '
    "about 400 g CO2 per mile, i.e. about 248.5 g CO2 per km (tailpipe CO2)"
)

# --- A 1,000 W microwave oven (energy) --------------------------------------------
# By definition: a 1,000 W appliance draws 1,000 J each second. Rated power is the
# electrical draw here, not the (lower) cooking power printed on some ovens.
MICROWAVE_POWER_W = 1000.0
MICROWAVE_CITATION = "By definition: energy divided by 1,000 W of electrical draw"

S_PER_MIN = 60.0


@dataclass(frozen=True)
class Equivalent:
    """How many of an everyday thing a figure amounts to.

    ``value`` is in ``unit`` (``"charges"``, ``"km"``, ``"min"``); ``factor`` is the
    constant it was computed with, in ``factor_unit``; ``basis`` says whether the
    energy or the CO2e figure was compared.
    """

    key: str
    label: str
    value: float
    unit: str
    factor: float
    factor_unit: str
    basis: Literal["energy", "co2e"]
    citation: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")


def equivalents(energy_j: float, co2e_g: float) -> list[Equivalent]:
    """Smartphone charges and microwave minutes for ``energy_j``; car km for ``co2e_g``.

    Pass the energy and emissions of the same thing (for example a
    :class:`~genwatt.carbon.intensity.Co2eResult`'s ``energy_j_facility`` and
    ``co2e_g``); the two are compared separately and never converted into each other.
    """
    _check("energy_j", energy_j)
    _check("co2e_g", co2e_g)
    return [
        Equivalent(
            key="smartphone_charges",
            label="smartphone charges",
            value=j_to_kwh(energy_j) / SMARTPHONE_CHARGE_KWH,
            unit="charges",
            factor=SMARTPHONE_CHARGE_KWH,
            factor_unit="kWh per charge",
            basis="energy",
            citation=SMARTPHONE_CITATION,
        ),
        Equivalent(
            key="car_km",
            label="km driven in an average petrol car",
            value=co2e_g / CAR_CO2_G_PER_KM,
            unit="km",
            factor=CAR_CO2_G_PER_KM,
            factor_unit="g CO2 per km",
            basis="co2e",
            citation=CAR_CITATION,
        ),
        Equivalent(
            key="microwave_min",
            label="minutes of a 1,000 W microwave",
            value=energy_j / MICROWAVE_POWER_W / S_PER_MIN,
            unit="min",
            factor=MICROWAVE_POWER_W,
            factor_unit="W",
            basis="energy",
            citation=MICROWAVE_CITATION,
        ),
    ]
