"""Numbers as genwatt prints them: significant figures, human units, no exponents."""

from __future__ import annotations

import pytest

from genwatt import formatting as fmt


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5.29e-6, "0.00000529"),
        (0.000199, "0.000199"),
        (0.25, "0.25"),
        (480.0, "480"),
        (12345.0, "12300"),
        (1234567.0, "1,230,000"),
        (0.0, "0"),
    ],
)
def test_sig_never_writes_an_exponent(value: float, text: str) -> None:
    assert fmt.sig(value) == text


def test_tiny_masses_and_energies_pick_their_unit() -> None:
    assert fmt.mass_g(9.5e-5) == "95 µg"
    assert fmt.energy(0.72) == "0.2 mWh"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1.5e15, "FLOP", "1.5 PFLOP"),
        (2.46e12, "", "2.46 T"),
        (5e5, "", "500000 "),
        (2e18, "", "2 E"),  # `genwatt predict` once printed "2e+03 P" here
    ],
)
def test_si_prefixes_keep_numbers_short(value: float, unit: str, text: str) -> None:
    assert fmt.si(value, unit) == text


def test_flops_and_seconds_as_the_predict_table_shows_them() -> None:
    assert fmt.flops(None) == fmt.DASH
    assert fmt.flops(3.2e9) == "3.2 GFLOP"
    assert fmt.seconds(1234.4) == "1,234"
    assert fmt.seconds(12.345) == "12.3"
    assert fmt.seconds(0.5) == "0.5"
