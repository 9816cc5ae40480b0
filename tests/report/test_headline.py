"""The headline: one generation's energy, CO2e and per-unit cost, for a stated configuration."""

from __future__ import annotations

from dataclasses import replace

from genwatt import formatting as fmt
from genwatt.carbon import WORLD
from genwatt.carbon.setting import CarbonSetting
from genwatt.report import build_report
from genwatt.report.headline import DEFAULTS_WHY, LARGEST_WHY, headline
from genwatt.report.predicted import no_predictor
from genwatt.report.series import group_series
from genwatt.units import j_to_kwh


def _wan(records, synth):
    return next(s for s in group_series(records) if s.model == synth.WAN)


def test_the_largest_configuration_stands_in_when_the_defaults_were_not_measured(
    records, synth
) -> None:
    found = headline(synth.WAN, _wan(records, synth).measured)
    assert found is not None
    assert (found.settings, found.why) == ("9f 32x32 4 steps", LARGEST_WHY)
    assert found.energy_j == 18.0 and found.provenance == "measured"
    assert found.co2e_g == j_to_kwh(18.0) * WORLD.g_per_kwh
    per_unit = dict(found.per_unit_j)
    assert per_unit == {
        "second of video": 18.0 / (9 / 16),  # WAN's clips play at 16 fps (model card)
        "frame": 2.0,
        "megapixel-frame": 18.0 / (9 * 32 * 32 / 1e6),
    }
    assert (found.top_phase, found.top_share) == ("denoise", 5 / 8)
    text = found.text()
    assert text.startswith(f"{synth.WAN} at 9f 32x32 4 steps ({LARGEST_WHY}): one generation = ")
    assert "5 mWh (measured)" in text  # 18 J
    world = f"world-average grid, {fmt.sig(WORLD.g_per_kwh)} g/kWh: no country stored with the runs"
    assert world in text
    assert "0.556 mWh per frame" in text and "denoise: 62 %" in text
    assert "8.89 mWh per second of video" in text  # 18 J over 9 frames at 16 fps


def test_the_model_defaults_stand_for_it_when_measured(records, synth) -> None:
    from genwatt.models import get_model

    d = get_model(synth.WAN).defaults
    summaries = _wan(records, synth).measured
    summaries[0].config.update(num_frames=d.num_frames, height=d.height, width=d.width)
    summaries[0].config.update(steps=d.steps)
    found = headline(synth.WAN, summaries)
    assert found is not None and found.why == DEFAULTS_WHY
    assert found.settings.startswith(f"{d.num_frames}f")


def test_the_country_stored_with_the_runs_gives_the_co2e(records, synth) -> None:
    summaries = _wan(records, synth).measured
    for summary in summaries:
        summary.carbon = CarbonSetting.resolve("FR")
    stored = headline(synth.WAN, summaries)
    assert stored is not None and "grid of France" in stored.grid
    assert "stored with the runs" in stored.grid
    asked = headline(synth.WAN, summaries, country="DE")  # an explicit choice wins
    assert asked is not None and "grid of Germany" in asked.grid and "as asked" in asked.grid


def test_an_unknown_stored_country_says_so_instead_of_guessing(records, synth) -> None:
    summaries = _wan(records, synth).measured
    for summary in summaries:
        summary.carbon_error = "No grid carbon intensity for country 'XXX'"
    found = headline(synth.WAN, summaries)
    assert found is not None and found.co2e_g is None
    assert "CO2e unknown (no grid intensity" in found.text()


def test_the_report_opens_with_a_headline_per_series(built, synth) -> None:
    html = built.html
    first = html.index('class="gw-headline"')
    assert first < html.index("<section")
    assert html.count("one generation = ") == 4  # four series
    assert f"{synth.WAN} (random weights) · cuda: {synth.H100} at 9f 32x32 4 steps" in html


def test_no_headline_without_a_generation(records) -> None:
    commands = [r for r in records if r.kind == "measure"]
    assert 'class="gw-headline"' not in build_report(commands, predictor=no_predictor).html
    failed = [replace(r, status="failed", windows=[]) for r in records if r.kind == "sweep"]
    assert headline("sd-tiny", group_series(failed)[0].summaries) is None
