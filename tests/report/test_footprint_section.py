"""``genwatt report --daily-volume N``: each stored configuration as a service for a year."""

from __future__ import annotations

import re

import pytest

from genwatt.errors import ConfigError
from genwatt.report import build_report
from genwatt.report.footprint_section import footprint_html, footprint_section

DAY = 1000.0
YEAR = DAY * 365


def _row(section, model: str, label_part: str = ""):
    (found,) = [r for r in section.rows if r.model == model and label_part in r.configuration]
    return found


def test_a_suite_configuration_is_its_energy_per_query_times_a_year(synth) -> None:
    section = footprint_section(synth.suite_runs(), DAY)
    small = _row(section, "small", "batch 1,")
    q = synth.SUITE_QUERIES
    assert small.footprint.basis.energy_j == pytest.approx(4.0 / q)  # GPU energy
    assert small.footprint.energy_j == pytest.approx(4.0 / q * YEAR)
    assert small.footprint.per == "day" and small.footprint.queries == YEAR
    assert small.footprint.basis.provenance == "measured"
    # the failed summarization run has nothing to scale
    assert {r.model for r in section.rows} == {
        "small", "medium", "large", "t5-base", "qa", "flan", "gen-small", "gen-big",
    }  # fmt: skip
    assert len(section.rows) == 10  # small at three batch sizes


def test_repeats_of_a_sweep_configuration_give_its_range(synth) -> None:
    section = footprint_section(synth.runs(), DAY)
    wan = _row(section, synth.WAN, "5f 32x32 2 steps")
    # repeats at 0.75 and 1.25 of 0.5 x 5 frames x 2 steps joules
    energy_j = synth.wan_energy_j(5, 2)
    assert wan.footprint.basis.energy_j == pytest.approx(energy_j)
    assert wan.footprint.energy_low_j == pytest.approx(0.75 * energy_j * YEAR)
    assert wan.footprint.energy_high_j == pytest.approx(1.25 * energy_j * YEAR)
    assert wan.hardware == synth.H100
    cpu = _row(section, "sd-tiny", "32x32")
    assert cpu.footprint.basis.scope == "machine"
    assert cpu.footprint.basis.provenance == "estimated"


def test_without_a_volume_there_is_no_section(synth) -> None:
    section = footprint_section(synth.suite_runs(), None)
    assert section.rows == () and footprint_html(section) == ""


@pytest.mark.parametrize("volume", [0.0, -5.0, float("nan")])
def test_an_impossible_volume_is_refused(synth, volume: float) -> None:
    with pytest.raises(ConfigError, match="--daily-volume"):
        footprint_section(synth.suite_runs(), volume)


def test_the_page_shows_the_section_at_the_asked_volume(synth) -> None:
    html = build_report(
        synth.suite_runs(), predictor=synth.FakePredictor(), daily_volume=DAY, country="FR"
    ).html
    match = re.search(r'<section id="footprint">(.*?)</section>', html, re.S)
    assert match, "no footprint section"
    body = match.group(1)
    assert "1,000 queries a day" in body and "365,000 queries" in body
    assert "France" in body and "EIA" in body
    assert body.count("<tr>") == 1 + 10  # the header and a row per configuration
    plain = build_report(synth.suite_runs(), predictor=synth.FakePredictor()).html
    assert 'id="footprint"' not in plain


def test_user_strings_are_escaped(xss_runs, synth) -> None:
    html = footprint_html(footprint_section(xss_runs, DAY))
    assert synth.XSS not in html and "&lt;script&gt;" in html
