"""Grid lookups, the country fallbacks, PUE, and the CO2e arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genwatt.carbon import ENV_COUNTRY, WORLD, co2e, grid_data, grid_intensity, list_countries
from genwatt.carbon.intensity import GridIntensity
from genwatt.errors import ConfigError, GenwattError, UnknownCountryError


@pytest.fixture(autouse=True)
def _no_country_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own GENWATT_COUNTRY must not leak into the tests."""
    monkeypatch.delenv(ENV_COUNTRY, raising=False)
    monkeypatch.delenv("GENWATT_CLOUD", raising=False)


@pytest.fixture
def grid_100(monkeypatch: pytest.MonkeyPatch) -> GridIntensity:
    """France replaced by a round 100 g/kWh, so the arithmetic is checkable by hand."""
    fake = GridIntensity("FRA", "FR", "France", 100.0, "test", 2023)
    monkeypatch.setattr("genwatt.carbon.intensity._BY_CODE", {"FRA": fake, "FR": fake})
    return fake


# --- lookups -------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["FR", "fr", "FRA", "fra", "Fra", " fr "])
def test_lookup_by_either_code_in_any_case(code: str) -> None:
    found = grid_intensity(code)
    assert (found.iso3, found.iso2, found.name) == ("FRA", "FR", "France")
    assert found.g_per_kwh == 56.039  # the published figure, as shipped
    assert found.is_default is False
    assert found.year == 2023
    assert found.source == grid_data.SOURCE


@pytest.mark.parametrize("code", ["US", "us", "USA", "usa"])
def test_usa(code: str) -> None:
    assert grid_intensity(code).iso3 == "USA"


def test_default_is_world_and_labelled() -> None:
    found = grid_intensity()
    assert found is WORLD
    assert found.is_default is True
    assert found.name == "World"
    assert found.g_per_kwh == grid_data.world_average().g_per_kwh
    assert found.year == max(c.year for c in list_countries())
    assert "generation-weighted" in found.source


def test_env_var_used_when_no_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_COUNTRY, "se")
    assert grid_intensity().iso3 == "SWE"
    assert co2e(1.0).intensity.iso3 == "SWE"


def test_argument_beats_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_COUNTRY, "SE")
    assert grid_intensity("PL").iso3 == "POL"


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_values_count_as_not_given(monkeypatch: pytest.MonkeyPatch, blank: str) -> None:
    monkeypatch.setenv(ENV_COUNTRY, blank)
    assert grid_intensity(blank).is_default is True


def test_unknown_code_suggests_close_match_and_how_to_list() -> None:
    with pytest.raises(UnknownCountryError) as info:
        grid_intensity("FRN")
    message = str(info.value)
    assert "'FRN'" in message
    assert "FRA (France)" in message
    assert "list_countries()" in message
    assert isinstance(info.value, GenwattError)


def test_unknown_name_suggests_code() -> None:
    with pytest.raises(UnknownCountryError, match=r"DEU \(Germany\)"):
        grid_intensity("germanie")


@pytest.mark.parametrize(("code", "hint"), [("UK", "GBR"), ("el", "GRC")])
def test_non_iso_codes_are_suggested_not_accepted(code: str, hint: str) -> None:
    with pytest.raises(UnknownCountryError, match=rf"Did you mean {hint} "):
        grid_intensity(code)


def test_unknown_code_from_env_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_COUNTRY, "XX")
    with pytest.raises(UnknownCountryError, match=r"\$GENWATT_COUNTRY"):
        grid_intensity()


# --- the table -------------------------------------------------------------------------


def test_table_rows_are_sane() -> None:
    countries = list_countries()
    assert len(countries) == 213
    iso3 = [c.iso3 for c in countries]
    iso2 = [c.iso2 for c in countries]
    assert len(set(iso3)) == len(iso3)
    assert len(set(iso2)) == len(iso2)
    for c in countries:
        assert len(c.iso3) == 3 and c.iso3.isalpha() and c.iso3.isupper(), c
        assert len(c.iso2) == 2 and c.iso2.isalpha() and c.iso2.isupper(), c
        assert c.name
        assert 0 <= c.g_per_kwh < 1500, c
        assert c.is_default is False
    assert iso3 == sorted(iso3)
    assert 0 < WORLD.g_per_kwh < 1500


def test_table_covers_the_required_regions() -> None:
    required = [
        "USA",
        "CAN",
        "GBR",
        "IRL",
        "FRA",
        "DEU",
        "NLD",
        "BEL",
        "SWE",
        "NOR",
        "FIN",
        "DNK",
        "CHE",
        "AUT",
        "ESP",
        "PRT",
        "ITA",
        "POL",
        "CZE",
        "JPN",
        "KOR",
        "CHN",
        "IND",
        "SGP",
        "AUS",
        "NZL",
        "BRA",
        "CHL",
        "MEX",
        "ZAF",
        "SAU",
        "ARE",
        "TUR",
        "IDN",
        "TWN",
        "ISR",
        "RUS",
        "ARG",
    ]
    known = {c.iso3 for c in list_countries()}
    assert set(required) <= known


def test_every_country_resolves_by_both_codes_and_name() -> None:
    for c in list_countries():
        assert grid_intensity(c.iso2) == c
        assert grid_intensity(c.iso3.lower()) == c
        assert grid_intensity(c.name.upper()) == c


# --- CO2e and PUE ----------------------------------------------------------------------


def test_one_kwh_at_100_g_per_kwh_is_100_g(grid_100: GridIntensity) -> None:
    result = co2e(3.6e6, "FR")
    assert result.co2e_g == pytest.approx(100.0)
    assert result.energy_j == 3.6e6
    assert result.energy_j_facility == 3.6e6
    assert result.intensity == grid_100
    assert result.pue == 1.0


def test_pue_multiplies_facility_energy_and_co2e(grid_100: GridIntensity) -> None:
    result = co2e(1.8e6, "FRA", pue=1.5)  # 0.5 kWh x 1.5 = 0.75 kWh -> 75 g
    assert result.energy_j == 1.8e6
    assert result.energy_j_facility == pytest.approx(2.7e6)
    assert result.co2e_g == pytest.approx(75.0)
    assert result.pue == 1.5


def test_world_default_arithmetic() -> None:
    result = co2e(3600.0)  # 1 Wh
    assert result.intensity.is_default is True
    assert result.co2e_g == pytest.approx(WORLD.g_per_kwh / 1000)


def test_real_table_value() -> None:
    # 10 kWh in Poland (661.926 g/kWh) at PUE 1.2 -> 12 kWh x 661.926 = 7943.112 g.
    assert co2e(3.6e7, "pl", pue=1.2).co2e_g == pytest.approx(7943.112)


def test_zero_energy_is_zero_co2e() -> None:
    assert co2e(0.0, "FR").co2e_g == 0.0


@pytest.mark.parametrize("pue", [1.0, 1.56, 3.0])
def test_pue_bounds_accepted(pue: float) -> None:
    assert co2e(1.0, "FR", pue=pue).pue == pue


@pytest.mark.parametrize("pue", [0.0, 0.99, 3.01, -1.0, float("nan"), float("inf")])
def test_pue_out_of_range_rejected(pue: float) -> None:
    with pytest.raises(ConfigError, match=r"PUE must be between 1 and 3"):
        co2e(1.0, "FR", pue=pue)


@pytest.mark.parametrize("energy_j", [-1.0, float("nan"), float("inf")])
def test_bad_energy_rejected(energy_j: float) -> None:
    with pytest.raises(ValueError, match="energy_j"):
        co2e(energy_j, "FR")


def test_results_are_frozen_and_serialisable() -> None:
    result = co2e(3.6e6, "DE", pue=1.1)
    with pytest.raises(AttributeError):
        result.co2e_g = 0.0  # type: ignore[misc]
    data = result.to_dict()
    assert data["intensity"]["iso3"] == "DEU"
    assert data["pue"] == 1.1


@given(
    energy_j=st.floats(min_value=0.0, max_value=1e12, allow_nan=False),
    scale=st.floats(min_value=0.0, max_value=1e3, allow_nan=False),
    pue=st.floats(min_value=1.0, max_value=3.0),
    country=st.sampled_from([c.iso3 for c in list_countries()]),
)
def test_co2e_linear_in_energy_and_pue(
    energy_j: float, scale: float, pue: float, country: str
) -> None:
    base = co2e(energy_j, country).co2e_g
    assert co2e(energy_j * scale, country).co2e_g == pytest.approx(base * scale, rel=1e-9)
    assert co2e(energy_j, country, pue=pue).co2e_g == pytest.approx(base * pue, rel=1e-9)
