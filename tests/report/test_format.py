"""Numbers as the report prints them: significant figures, human units, no exponents."""

from __future__ import annotations

import pytest

from genwatt.report import format as fmt


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
