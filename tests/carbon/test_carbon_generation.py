"""Energy as a share of a country's yearly generation, from the shipped table."""

from __future__ import annotations

import pytest

from genwatt.carbon import share_of_generation
from genwatt.carbon.generation import J_PER_TWH
from genwatt.errors import UnknownCountryError


def test_one_twh_in_ireland() -> None:
    share = share_of_generation(J_PER_TWH, "ie")
    assert (share.iso3, share.name, share.year) == ("IRL", "Ireland", 2023)
    assert share.generation_twh == 31.43
    assert share.fraction == pytest.approx(1 / 31.43)
    assert share.to_dict()["fraction"] == share.fraction


@pytest.mark.parametrize("country", ["FR", "fra", "France"])
def test_any_spelling_of_the_country(country: str) -> None:
    assert share_of_generation(3.6e15 * 514.11, country).fraction == pytest.approx(1.0)


def test_unknown_country_names_the_nearest() -> None:
    with pytest.raises(UnknownCountryError, match=r"KEN \(Kenya\)"):
        share_of_generation(1.0, "Kenia")


@pytest.mark.parametrize("energy_j", [-1.0, float("nan")])
def test_bad_energy_rejected(energy_j: float) -> None:
    with pytest.raises(ValueError, match="energy_j"):
        share_of_generation(energy_j, "FR")
