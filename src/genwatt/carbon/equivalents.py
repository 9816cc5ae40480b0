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

# --- A household's yearly electricity (energy), for fleet figures ------------------
# A service's year of queries is read against homes, as press coverage of AI's
# electricity does. Household electricity is what the grid delivered, so it compares
# with the facility energy (device energy x PUE), not the device's.
#
# US Energy Information Administration, "How much electricity does an American home
# use?" (FAQ): "In 2022, the average annual electricity consumption for a U.S.
# residential utility customer was 10,791 kilowatthours (kWh), an average of about
# 899 kWh per month." https://www.eia.gov/tools/faqs/faq.php?id=97&t=3
US_HOUSEHOLD_KWH_PER_YEAR = 10_791.0
US_HOUSEHOLD_CITATION = (
    'US EIA, "How much electricity does an American home use?" (FAQ): 10,791 kWh a year '
    "per residential customer in 2022"
)
# Ofgem, "Average gas and electricity usage": the Typical Domestic Consumption Value for
# electricity of a medium user in Great Britain, 2,700 kWh a year (from 1 April 2023).
# https://www.ofgem.gov.uk/information-consumers/energy-advice-households/average-gas-and-electricity-use-explained
UK_HOUSEHOLD_KWH_PER_YEAR = 2_700.0
UK_HOUSEHOLD_CITATION = (
    'Ofgem, "Average gas and electricity usage": Typical Domestic Consumption Value, '
    "2,700 kWh of electricity a year for a medium household in Great Britain (from April 2023)"
)
DAYS_PER_YEAR = 365.0


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

    def text(self) -> str:
        """The equivalent as a person reads it (``3.2 m by petrol car``); see ``readable``."""
        return readable(self)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"text": self.text()}


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


def _household(
    key: str, where: str, kwh_per_year: float, citation: str, energy_j: float
) -> Equivalent:
    return Equivalent(
        key=key,
        label=f"{where} households' yearly electricity",
        value=j_to_kwh(energy_j) / kwh_per_year,
        unit="household-years",
        factor=kwh_per_year,
        factor_unit="kWh per household per year",
        basis="energy",
        citation=citation,
    )


def fleet_equivalents(energy_j: float, co2e_g: float) -> list[Equivalent]:
    """Equivalents for the energy and emissions of a whole service: the yearly
    electricity of US and UK households first, then phone charges and car km from
    ``equivalents`` (minutes of a microwave mean little at this scale).

    ``energy_j`` is the energy the grid delivered (after the PUE), as for
    ``equivalents``; a household's electricity is delivered energy too.
    """
    _check("energy_j", energy_j)
    _check("co2e_g", co2e_g)
    return [
        _household(
            "us_households", "US", US_HOUSEHOLD_KWH_PER_YEAR, US_HOUSEHOLD_CITATION, energy_j
        ),
        _household(
            "uk_households", "UK", UK_HOUSEHOLD_KWH_PER_YEAR, UK_HOUSEHOLD_CITATION, energy_j
        ),
        *(e for e in equivalents(energy_j, co2e_g) if e.key != "microwave_min"),
    ]


# --- Readable text ---------------------------------------------------------------
# A reader cannot picture 5.29e-06 km: each equivalent is shown in the largest unit
# that keeps its number at least 1 (kilometres, metres, millimetres; minutes,
# seconds, milliseconds; whole phone charges, then per cent of one), with two
# significant figures and never an exponent. Below the smallest unit it says "less
# than 1 mm" rather than print a meaningless figure.

# (factor of ``value`` per shown unit, template for the number) per key, largest first.
_SCALES: dict[str, tuple[tuple[float, str], ...]] = {
    "smartphone_charges": ((1.0, "{} phone charges"), (0.01, "{} % of a phone charge")),
    "car_km": (
        (1.0, "{} km by petrol car"),
        (1e-3, "{} m by petrol car"),
        (1e-6, "{} mm by petrol car"),
    ),
    "microwave_min": (
        (60.0, "{} h of microwave"),
        (1.0, "{} min of microwave"),
        (1.0 / S_PER_MIN, "{} s of microwave"),
        (1e-3 / S_PER_MIN, "{} ms of microwave"),
    ),
    "us_households": (
        (1.0, "{} US households' electricity for a year"),
        (1.0 / DAYS_PER_YEAR, "{} days of a US household's electricity"),
    ),
    "uk_households": (
        (1.0, "{} UK households' electricity for a year"),
        (1.0 / DAYS_PER_YEAR, "{} days of a UK household's electricity"),
    ),
}
_SINGULAR = {
    "1 phone charges": "1 phone charge",
    "1 US households' electricity for a year": "1 US household's electricity for a year",
    "1 UK households' electricity for a year": "1 UK household's electricity for a year",
    "1 days of a US household's electricity": "1 day of a US household's electricity",
    "1 days of a UK household's electricity": "1 day of a UK household's electricity",
}
# The order in which a reader relates to them: a phone charge first.
RELATABLE_ORDER = ("smartphone_charges", "car_km", "microwave_min")
# At the scale of a service, homes first: a year of queries against a year of a home.
FLEET_ORDER = ("us_households", "smartphone_charges", "car_km")
RELATABLE_RANGE = (0.1, 10_000.0)


def plain_number(value: float, digits: int = 2) -> str:
    """``value`` to ``digits`` significant figures, without exponent: ``12,000``, ``0.17``."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, decimals)
    if decimals <= 0:
        return f"{rounded:,.0f}"
    return f"{rounded:,.{decimals}f}".rstrip("0").rstrip(".")


def _scales(equivalent: Equivalent) -> tuple[tuple[float, str], ...]:
    return _SCALES.get(equivalent.key, ((1.0, "{} " + equivalent.unit),))


def _scaled(equivalent: Equivalent) -> tuple[float, str] | None:
    """(number, template) in the largest unit that keeps the number at least 1 (0.1 in
    the smallest unit); None when the figure is smaller still."""
    scales = _scales(equivalent)
    for factor, template in scales:
        number = equivalent.value / factor
        if number >= 1 or (template == scales[-1][1] and number >= RELATABLE_RANGE[0]):
            return number, template
    return None


def readable(equivalent: Equivalent) -> str:
    """``3.2 m by petrol car``, ``1.7 % of a phone charge``; ``less than 0.1 mm by petrol
    car`` when the figure is too small for every unit (never ``5.29e-06 km``)."""
    if equivalent.value == 0:
        return _scales(equivalent)[0][1].format("0")
    scaled = _scaled(equivalent)
    if scaled is None:
        smallest = _scales(equivalent)[-1][1]
        return "less than " + smallest.format(plain_number(RELATABLE_RANGE[0]))
    number, template = scaled
    text = template.format(plain_number(number))
    return _SINGULAR.get(text, text)


def most_relatable(items: list[Equivalent], order: tuple[str, ...] = RELATABLE_ORDER) -> str:
    """The text of the first equivalent in ``order`` whose number, in its readable unit,
    lies between 0.1 and 10,000; failing that, the first one's text. ``FLEET_ORDER``
    puts households first, for a service's year."""
    rank = {key: i for i, key in enumerate(order)}
    ordered = sorted(items, key=lambda e: rank.get(e.key, len(rank)))
    for item in ordered:
        scaled = _scaled(item)
        if scaled is not None and RELATABLE_RANGE[0] <= scaled[0] <= RELATABLE_RANGE[1]:
            return readable(item)
    return readable(ordered[0]) if ordered else ""
