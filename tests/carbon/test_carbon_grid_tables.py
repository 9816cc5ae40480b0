"""The shipped grid tables: every row loads and resolves, a few published figures are
pinned, the world average is the generation-weighted mean, and the files still equal
the published series in shared/reference."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest

from genwatt.carbon import WORLD, grid_data, grid_intensity, list_cloud_regions, list_countries
from genwatt.errors import ConfigError, UnknownCountryError

DATA = resources.files("genwatt.carbon").joinpath("data")
ROOT = Path(__file__).resolve().parents[2]
REFERENCE = next(
    (p for p in (ROOT / "shared", ROOT.parent / "shared") if (p / "reference" / "grid").is_dir()),
    None,
)


@pytest.fixture(autouse=True)
def _no_grid_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENWATT_COUNTRY", raising=False)
    monkeypatch.delenv("GENWATT_CLOUD", raising=False)


def _shipped(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(DATA.joinpath(name).read_text(encoding="utf-8").splitlines()))


def test_every_country_row_loads_and_resolves_by_alpha3_alpha2_and_name() -> None:
    rows = _shipped(grid_data.COUNTRIES_FILE)
    assert len(rows) == 213
    alpha2 = {r["iso3"]: r["iso2"] for r in _shipped(grid_data.ALPHA2_FILE)}
    assert set(alpha2) == {r["iso3"] for r in rows}
    assert len(set(alpha2.values())) == len(alpha2)
    for row in rows:
        found = grid_intensity(row["iso3"])
        assert found.g_per_kwh == float(row["carbon_intensity_g_per_kwh"]), row
        assert found.year == int(row["year"]) and found.name == row["country"], row
        assert grid_intensity(alpha2[row["iso3"]].lower()) == found, row
        assert grid_intensity(row["country"].lower()) == found, row
        assert grid_intensity(row["iso3"].lower()) == found, row


def test_every_cloud_region_row_loads_and_resolves() -> None:
    rows = _shipped(grid_data.CLOUD_REGIONS_FILE)
    assert len(rows) == 40 == len(list_cloud_regions())
    for row in rows:
        key = f"{row['provider']}:{row['region']}"
        found = grid_intensity(cloud=key.upper())
        assert found.cloud_region == key
        assert found.g_per_kwh == float(row["carbon_intensity_g_per_kwh"])
        assert found.iso3 == row["country_iso3"] and found.source == row["source"]
        assert found.name == f"{key} ({grid_intensity(row['country_iso3']).name})"


@pytest.mark.parametrize(
    ("code", "g_per_kwh", "year"),
    [("ARE", 561.135, 2022), ("ISR", 582.927, 2022), ("IRL", 290.805, 2023), ("KEN", 70.492, 2023)],
)
def test_published_figures(code: str, g_per_kwh: float, year: int) -> None:
    found = grid_intensity(code)
    assert (found.g_per_kwh, found.year) == (g_per_kwh, year)


def test_the_world_average_is_the_generation_weighted_mean_of_the_series() -> None:
    rows = _shipped(grid_data.COUNTRIES_FILE)
    twh = [float(r["generation_twh"]) for r in rows]
    g = [float(r["carbon_intensity_g_per_kwh"]) for r in rows]
    expected = sum(a * b for a, b in zip(g, twh, strict=True)) / sum(twh)
    assert expected == pytest.approx(WORLD.g_per_kwh, rel=1e-12)
    assert WORLD.is_default and "generation-weighted" in WORLD.source
    assert grid_intensity() is WORLD


def test_regions_spelled_as_their_provider_does_are_accepted() -> None:
    assert grid_intensity(cloud="gcp:me-central1").cloud_region == "gcp:me-cenrtal1"


@pytest.mark.parametrize("spec", ["gcp:europe-wets1", "europe-west1", "aws:europe-west1"])
def test_an_unknown_region_names_the_nearest(spec: str) -> None:
    with pytest.raises(UnknownCountryError, match=r"gcp:europe-west1") as info:
        grid_intensity(cloud=spec)
    assert "genwatt carbon" in str(info.value)


def test_suggestions_name_each_country_once() -> None:
    with pytest.raises(UnknownCountryError) as info:
        grid_intensity("SWEDN")
    hint = str(info.value).split("Did you mean ")[1].split("?")[0].split(", ")
    assert hint[0] == "SWE (Sweden)" and len(hint) == len(set(hint))
    assert "`genwatt carbon`" in str(info.value)


def test_country_and_cloud_together_is_refused_as_arguments_and_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigError, match="give one"):
        grid_intensity("FR", cloud="gcp:europe-west9")
    monkeypatch.setenv("GENWATT_COUNTRY", "FR")
    monkeypatch.setenv("GENWATT_CLOUD", "gcp:europe-west9")
    with pytest.raises(ConfigError, match=r"\$GENWATT_COUNTRY.*\$GENWATT_CLOUD"):
        grid_intensity()
    assert grid_intensity("DE").iso3 == "DEU"  # an argument wins over both variables


def test_list_countries_is_every_row_sorted() -> None:
    assert [c.iso3 for c in list_countries()] == sorted(r.iso3 for r in grid_data.countries())


@pytest.mark.skipif(REFERENCE is None, reason="shared/reference is not beside this checkout")
@pytest.mark.parametrize("name", [grid_data.COUNTRIES_FILE, grid_data.CLOUD_REGIONS_FILE])
def test_shipped_tables_equal_the_published_series(name: str) -> None:
    assert REFERENCE is not None
    published = (REFERENCE / "reference" / "grid" / name).read_text(encoding="utf-8")
    assert _shipped(name) == list(csv.DictReader(published.splitlines()))
