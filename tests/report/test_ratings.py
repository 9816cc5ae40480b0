import pytest

from genwatt.report.ratings import band_edges_j, rate, star_text, stars


def test_stars_cut_the_log_range_in_five_equal_bands() -> None:
    low, high = 1.0, 1e5  # one decade per band
    assert stars(1.0, low, high) == 5
    assert stars(9.99, low, high) == 5
    assert stars(10.0, low, high) == 4
    assert stars(999.0, low, high) == 3
    assert stars(1e4, low, high) == 1
    assert stars(1e5, low, high) == 1
    assert band_edges_j(low, high) == pytest.approx([1, 10, 100, 1e3, 1e4, 1e5])


def test_one_level_gives_five_stars_and_one_model_gives_none() -> None:
    assert stars(3.0, 3.0, 3.0) == 5
    rows = [("t2v", "a", 1.0), ("t2v", "a", 8.0), ("t2i", "b", 2.0), ("t2i", "c", 2.0)]
    assert rate(rows) == [None, None, 5, 5]
    assert star_text(3) == "★★★☆☆" and star_text(None) == "—"
