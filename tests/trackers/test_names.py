"""Metric names: stable, and made of what every tracker accepts."""

from __future__ import annotations

import re

import pytest

from genwatt.trackers.names import (
    MAX_NAME_LENGTH,
    MAX_TAG_LENGTH,
    metric_name,
    safe,
    tag_value,
)


@pytest.mark.parametrize(
    ("part", "name"),
    [
        ("generation", "generation"),
        ("step:3", "step_3"),
        ("gpu:0", "gpu_0"),
        ("a/b c", "a_b_c"),
        ("GET /items/{id}", "GET__items__id_"),
        ("vae_decode", "vae_decode"),
        ("", "_"),
    ],
)
def test_unsafe_characters_become_underscores(part: str, name: str) -> None:
    assert safe(part) == name


def test_names_are_dot_separated_and_cut_to_what_mlflow_takes() -> None:
    assert metric_name("genwatt.energy_j", "generation", "denoise") == (
        "genwatt.energy_j.generation.denoise"
    )
    long = "w" * 400
    names = {
        metric_name("genwatt.energy_j", long),
        metric_name("genwatt.energy_j", long, "denoise"),
        metric_name("genwatt.domain_energy_j", long, "g" * 400),
    }
    assert len(names) == 3  # a long window name never merges two metrics
    assert all(len(n) <= MAX_NAME_LENGTH for n in names)
    assert re.fullmatch(r"[A-Za-z0-9_.\-]+", metric_name("genwatt.co2e_g", "é:ü/?"))


def test_long_tag_values_are_cut_and_say_so() -> None:
    assert tag_value("gpu:0: lost") == "gpu:0: lost"
    cut = tag_value("x" * 20_000)
    assert len(cut) <= MAX_TAG_LENGTH and cut.endswith("(cut)")
