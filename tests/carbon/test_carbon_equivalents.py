"""Everyday equivalents: the arithmetic against hand-computed numbers, and the citations."""

from __future__ import annotations

import pytest

from genwatt.carbon import co2e, equivalents
from genwatt.carbon.equivalents import (
    CAR_CO2_G_PER_KM,
    MICROWAVE_POWER_W,
    SMARTPHONE_CHARGE_KWH,
    most_relatable,
)


def _by_key(energy_j: float, co2e_g: float) -> dict[str, float]:
    return {e.key: e.value for e in equivalents(energy_j, co2e_g)}


def test_factors_match_their_citations() -> None:
    assert SMARTPHONE_CHARGE_KWH == 0.012
    assert pytest.approx(248.55, abs=0.01) == CAR_CO2_G_PER_KM
    assert MICROWAVE_POWER_W == 1000.0


def test_one_smartphone_charge() -> None:
    # 0.012 kWh = 43 200 J
    assert _by_key(43_200.0, 0.0)["smartphone_charges"] == pytest.approx(1.0)


def test_one_kwh_is_83_charges_and_an_hour_of_microwave() -> None:
    values = _by_key(3.6e6, 0.0)
    assert values["smartphone_charges"] == pytest.approx(1 / 0.012)
    assert values["microwave_min"] == pytest.approx(60.0)


def test_microwave_minute() -> None:
    assert _by_key(60_000.0, 0.0)["microwave_min"] == pytest.approx(1.0)


def test_car_km_from_co2e_not_energy() -> None:
    # 400 g CO2 is one mile by the EPA figure.
    values = _by_key(0.0, 400.0)
    assert values["car_km"] == pytest.approx(1.609344)
    assert _by_key(1e9, 0.0)["car_km"] == 0.0


def test_every_equivalent_is_labelled_and_cited() -> None:
    items = equivalents(1.0, 1.0)
    assert {e.key for e in items} == {"smartphone_charges", "car_km", "microwave_min"}
    for e in items:
        assert e.label and e.unit and e.factor_unit and e.citation
        assert e.factor > 0
        assert e.basis in ("energy", "co2e")
        assert e.to_dict()["key"] == e.key
    assert {e.key: e.basis for e in items}["car_km"] == "co2e"
    assert "EPA" in {e.key: e.citation for e in items}["smartphone_charges"]


def test_from_a_co2e_result() -> None:
    result = co2e(3.6e6, "SE", pue=1.2)
    values = _by_key(result.energy_j_facility, result.co2e_g)
    assert values["microwave_min"] == pytest.approx(72.0)
    assert values["car_km"] == pytest.approx(result.co2e_g / CAR_CO2_G_PER_KM)


@pytest.mark.parametrize(("energy_j", "co2e_g"), [(-1.0, 0.0), (0.0, -1.0), (float("nan"), 0.0)])
def test_bad_inputs_rejected(energy_j: float, co2e_g: float) -> None:
    with pytest.raises(ValueError):
        equivalents(energy_j, co2e_g)


def _texts(energy_j: float, co2e_g: float) -> dict[str, str]:
    return {e.key: e.text() for e in equivalents(energy_j, co2e_g)}


def test_tiny_equivalents_are_read_in_small_units_without_exponents() -> None:
    # 5.29e-06 km by petrol car is 5.3 mm; 0.72 J is 0.72 ms of the microwave.
    texts = _texts(0.72, 5.29e-6 * CAR_CO2_G_PER_KM)
    assert texts["car_km"] == "5.3 mm by petrol car"
    assert texts["microwave_min"] == "0.72 ms of microwave"
    assert texts["smartphone_charges"] == "less than 0.1 % of a phone charge"
    assert _texts(720.0, 0.4)["smartphone_charges"] == "1.7 % of a phone charge"
    assert _texts(0.0, 0.3)["car_km"] == "1.2 m by petrol car"
    assert _texts(0.0, 1e-9)["car_km"] == "less than 0.1 mm by petrol car"


def test_large_equivalents_have_separators_not_exponents() -> None:
    texts = _texts(4e12, 4e9)
    assert texts["smartphone_charges"] == "93,000,000 phone charges"
    assert texts["car_km"] == "16,000,000 km by petrol car"
    assert texts["microwave_min"] == "1,100,000 h of microwave"
    assert _texts(43_200.0, 0.0)["smartphone_charges"] == "1 phone charge"


@pytest.mark.parametrize(
    ("energy_j", "co2e_g"), [(1e-9, 1e-12), (0.72, 1e-4), (50.0, 0.007), (3.6e6, 480.0)]
)
def test_no_text_is_in_scientific_notation(energy_j: float, co2e_g: float) -> None:
    items = equivalents(energy_j, co2e_g)
    for text in [e.text() for e in items] + [most_relatable(items)]:
        assert "e-" not in text and "e+" not in text, text
    assert all(e.to_dict()["text"] == e.text() for e in items)


def test_the_most_relatable_equivalent_has_a_number_between_a_tenth_and_ten_thousand() -> None:
    assert most_relatable(equivalents(3.6e6, 480.0)) == "83 phone charges"
    # Less than 0.1 % of a phone charge: the car distance reads better.
    assert most_relatable(equivalents(0.72, 0.000096)) == "0.39 mm by petrol car"
    assert most_relatable(equivalents(1e-9, 1e-12)) == "less than 0.1 % of a phone charge"
