"""The carbon setting: resolved once, stored with a run, read back unchanged."""

from __future__ import annotations

import pytest

from genwatt.carbon import WORLD, grid_intensity
from genwatt.carbon.setting import (
    ENV_PUE,
    RECORD_KEY,
    CarbonSetting,
    choose_setting,
    stored_setting,
)
from genwatt.errors import ConfigError, UnknownCountryError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENWATT_COUNTRY", raising=False)
    monkeypatch.delenv("GENWATT_CLOUD", raising=False)
    monkeypatch.delenv(ENV_PUE, raising=False)


def test_flags_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENWATT_COUNTRY", "DE")
    monkeypatch.setenv(ENV_PUE, "1.5")
    setting = CarbonSetting.resolve("FR", 1.2)
    assert setting.intensity.iso3 == "FRA"
    assert setting.pue == 1.2


def test_environment_then_world(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CarbonSetting.resolve() == CarbonSetting(WORLD, 1.0)
    assert CarbonSetting.resolve().is_default
    monkeypatch.setenv("GENWATT_COUNTRY", "fra")
    monkeypatch.setenv(ENV_PUE, " 1.4 ")
    setting = CarbonSetting.resolve()
    assert (setting.intensity.iso3, setting.pue) == ("FRA", 1.4)
    assert not setting.is_default


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "0.5", "4"])
def test_bad_pue_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv(ENV_PUE, text)
    with pytest.raises(ConfigError):
        CarbonSetting.resolve()


@pytest.mark.parametrize("pue", [float("nan"), float("inf"), 0.9, 3.5])
def test_bad_pue_flag_is_refused(pue: float) -> None:
    with pytest.raises(ConfigError):
        CarbonSetting.resolve(pue=pue)


def test_unknown_country_is_refused() -> None:
    with pytest.raises(UnknownCountryError):
        CarbonSetting.resolve("Atlantis")


def test_co2e_uses_grid_and_pue() -> None:
    france = grid_intensity("FR")
    result = CarbonSetting(france, 1.5).co2e(3.6e6)  # 1 kWh at the device
    assert result.energy_j_facility == pytest.approx(5.4e6)
    assert result.co2e_g == pytest.approx(1.5 * france.g_per_kwh)


def test_negative_net_energy_costs_nothing_but_nan_is_a_bug() -> None:
    setting = CarbonSetting(WORLD)
    assert setting.co2e(-3.0).co2e_g == 0.0
    with pytest.raises(ValueError):
        setting.co2e(float("nan"))


def test_stored_snapshot_round_trips_exactly() -> None:
    setting = CarbonSetting.resolve("FR", 1.1)
    assert CarbonSetting.from_dict(setting.to_dict()) == setting
    world = CarbonSetting.resolve()
    assert CarbonSetting.from_dict(world.to_dict()) == world


def test_stored_snapshot_keeps_its_figure_when_the_table_changes() -> None:
    data = CarbonSetting.resolve("FR").to_dict() | {"g_per_kwh": 12.5}
    assert stored_setting({RECORD_KEY: data}).co2e(3.6e6).co2e_g == pytest.approx(12.5)


def test_older_measure_runs_are_read_from_their_country_code() -> None:
    setting = stored_setting({"country": "FRA", "pue": 1.3})
    assert setting == CarbonSetting(grid_intensity("FR"), 1.3)
    assert stored_setting({"country": "WLD"}) == CarbonSetting(WORLD, 1.0)
    assert stored_setting({}) is None


def test_choose_setting_takes_what_is_asked_and_the_rest_from_the_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    france = CarbonSetting.resolve("FR", 1.3)
    assert choose_setting(france) == (france, "stored with the runs")
    germany, origin = choose_setting(france, country="DE")
    assert (germany.intensity.iso3, germany.pue, origin) == ("DEU", 1.3, "as asked")
    assert choose_setting(france, pue=1.1)[0] == CarbonSetting(france.intensity, 1.1)
    monkeypatch.setenv("GENWATT_COUNTRY", "DE")  # the reader's environment plays no part
    assert choose_setting(None) == (CarbonSetting(WORLD), "no country stored with the runs")
    with pytest.raises(ConfigError):
        choose_setting(france, pue=float("nan"))


def test_describe_names_the_grid() -> None:
    assert "world average" in CarbonSetting.resolve().describe()
    assert "France" in CarbonSetting.resolve("FR", 1.2).describe()
    assert "PUE 1.2" in CarbonSetting.resolve("FR", 1.2).describe()


# --- cloud regions -------------------------------------------------------------------


def test_a_cloud_region_is_resolved_stored_and_read_back(monkeypatch: pytest.MonkeyPatch) -> None:
    setting = CarbonSetting.resolve(pue=1.1, cloud="gcp:europe-west1")
    grid = setting.intensity
    assert (grid.cloud_region, grid.iso3, grid.g_per_kwh) == ("gcp:europe-west1", "BEL", 122.0)
    assert grid.name == "gcp:europe-west1 (Belgium)"
    assert grid.source.startswith("https://cloud.google.com/")
    snapshot = setting.to_dict()
    assert snapshot["cloud_region"] == "gcp:europe-west1" and snapshot["country"] == "BEL"
    assert CarbonSetting.from_dict(snapshot) == setting
    assert stored_setting({RECORD_KEY: snapshot}) == setting
    monkeypatch.setenv("GENWATT_CLOUD", "gcp:us-west1")
    assert CarbonSetting.resolve().intensity.cloud_region == "gcp:us-west1"


def test_snapshots_stored_before_cloud_regions_read_as_countries() -> None:
    data = CarbonSetting.resolve("FR").to_dict()
    del data["cloud_region"]
    assert CarbonSetting.from_dict(data) == CarbonSetting.resolve("FR")


def test_describe_a_region_names_it_without_a_year() -> None:
    text = CarbonSetting.resolve(cloud="gcp:europe-west9").describe()
    assert text == "gcp:europe-west9 (France), 34 g CO2e/kWh; PUE 1"


def test_the_world_average_says_it_is_computed() -> None:
    assert "generation-weighted" in CarbonSetting.resolve().describe()


def test_country_and_cloud_together_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="give one"):
        CarbonSetting.resolve("FR", cloud="gcp:europe-west1")
    with pytest.raises(ConfigError, match="give one"):
        choose_setting(None, country="FR", cloud="gcp:europe-west1")


def test_choose_setting_takes_a_cloud_region_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    france = CarbonSetting.resolve("FR", 1.3)
    region, origin = choose_setting(france, cloud="gcp:us-west1")
    assert (region.intensity.cloud_region, region.pue, origin) == ("gcp:us-west1", 1.3, "as asked")
    monkeypatch.setenv("GENWATT_CLOUD", "gcp:us-west1")  # the reader's environment plays no part
    assert choose_setting(france) == (france, "stored with the runs")
    with pytest.raises(UnknownCountryError, match="gcp:us-west1"):
        choose_setting(france, cloud="gcp:us-wets1")
