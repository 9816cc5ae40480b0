"""The listing ``genwatt carbon`` prints: every row, or those a filter names."""

from __future__ import annotations

from genwatt.carbon import WORLD, grid_listing


def test_everything_without_a_filter() -> None:
    listing = grid_listing()
    assert len(listing.countries) == 213 and len(listing.cloud_regions) == 40
    assert listing.world_g_per_kwh == WORLD.g_per_kwh
    data = listing.to_dict()
    assert data["world"]["source"] == WORLD.source
    assert data["countries"][0]["generation_twh"] > 0


def test_a_code_names_the_country_and_its_regions() -> None:
    listing = grid_listing("fr")
    assert [c.iso3 for c in listing.countries] == ["FRA"]
    assert [r.key for r in listing.cloud_regions] == ["gcp:europe-west9"]


def test_longer_filters_match_names_and_regions() -> None:
    assert {c.iso3 for c in grid_listing("kingdom").countries} == {"GBR"}
    europe = grid_listing("europe")
    assert europe.countries == () and len(europe.cloud_regions) == 12
    assert len(grid_listing("GCP").cloud_regions) == 40
    assert grid_listing("zz").countries == () and grid_listing("zz").cloud_regions == ()
