"""Both star formulas on hand-made numbers, and AI Energy Score's size classes."""

from __future__ import annotations

import pytest

from genwatt.analysis.stars import (
    linear_band_stars,
    log_band_edges_j,
    log_band_stars,
    size_class,
)


@pytest.mark.parametrize(
    ("energy", "stars"),
    [(1.0, 5), (2.7, 5), (2.9, 4), (3.0, 4), (5.0, 3), (7.0, 2), (9.0, 1), (10.0, 1), (11.0, 1)],
)
def test_linear_bands_are_five_equal_widths_of_the_range(energy: float, stars: int) -> None:
    # range 1..10, width 1.8: [1, 2.8) 5, [2.8, 4.6) 4, [4.6, 6.4) 3, [6.4, 8.2) 2, rest 1
    assert linear_band_stars(energy, 1.0, 10.0) == stars


@pytest.mark.parametrize(
    ("energy", "stars"), [(1.0, 5), (3.0, 5), (10.0, 4), (100.0, 3), (1e3, 2), (1e4, 1), (2e4, 1)]
)
def test_log_bands_are_equal_in_log_energy(energy: float, stars: int) -> None:
    # range 1..10^4: one band per 0.8 decade (6.3x)
    assert log_band_stars(energy, 1.0, 1e4) == stars


def test_one_large_model_gives_every_small_one_five_linear_stars_but_not_log_stars() -> None:
    classifiers_j = [0.1, 0.3, 1.0]  # three task-specific models
    largest_j = 50.0  # an 11B multi-purpose model on the same task
    linear = [linear_band_stars(e, 0.1, largest_j) for e in classifiers_j]
    log = [log_band_stars(e, 0.1, largest_j) for e in classifiers_j]
    assert linear == [5, 5, 5]
    assert log == [5, 5, 4]


def test_a_single_value_range_gives_five_stars() -> None:
    assert linear_band_stars(3.0, 3.0, 3.0) == 5
    assert log_band_stars(3.0, 3.0, 3.0) == 5


def test_log_band_edges_span_the_range() -> None:
    edges = log_band_edges_j(1.0, 1e5)
    assert edges[0] == pytest.approx(1.0) and edges[-1] == pytest.approx(1e5)
    assert [round(e) for e in edges] == [1, 10, 100, 1000, 10000, 100000]


@pytest.mark.parametrize(
    ("params", "klass"), [(1.2e8, "A"), (20e9, "A"), (20.1e9, "B"), (66e9, "B"), (70e9, "C")]
)
def test_text_generation_size_classes(params: float, klass: str) -> None:
    assert size_class(params) == klass


def test_unknown_size_has_no_class() -> None:
    assert size_class(None) is None
