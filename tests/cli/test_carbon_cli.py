"""``genwatt carbon``: the grid tables listed, filtered, and as JSON."""

from __future__ import annotations

import json

import pytest

from genwatt.carbon import WORLD, grid_listing

pytestmark = pytest.mark.slow


def test_json_is_the_listing(genwatt) -> None:
    result = genwatt("carbon", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(json.dumps(grid_listing().to_dict()))


def test_a_filter_lists_the_country_its_regions_source_and_year(genwatt) -> None:
    result = genwatt("carbon", "fr")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "France" in out and "2023" in out and " 56 " in out
    assert "gcp:europe-west9" in out and "Paris" in out
    assert "Our World in Data" in out and "cloud.google.com" in out
    assert f"{WORLD.g_per_kwh:.0f} g CO2e/kWh" in out and "Germany" not in out


def test_nothing_matches(genwatt) -> None:
    result = genwatt("carbon", "zz")
    assert result.returncode == 0
    assert "No country or cloud region matches 'zz'" in result.stdout
