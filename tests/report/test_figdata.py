"""The numbers that go into each figure and table, from the synthetic store, exactly."""

from __future__ import annotations

import math

import pytest

from genwatt.carbon import WORLD
from genwatt.report.document import collect
from genwatt.report.figdata import phase_data, scaling_data, step_data, timeline_data
from genwatt.report.series import group_series
from genwatt.units import j_to_kwh

WAN_LABEL = "wan2.1-t2v-1.3b (random weights) · cuda: NVIDIA H100 80GB HBM3"


def _series(records, model):
    return next(s for s in group_series(records) if s.model == model)


def test_series_are_grouped_by_model_and_machine_in_task_order(records) -> None:
    series = group_series(records)
    assert [(s.model, s.task) for s in series] == [
        ("cogvideox-tiny", "t2v"),
        ("wan2.1-t2v-1.3b", "t2v"),
        ("sd-tiny", "t2i"),
        ("llama-tiny", "text"),
    ]
    wan = series[1]
    assert wan.label == WAN_LABEL
    assert wan.provenance == "measured" and series[0].provenance == "estimated"
    assert [s.key for s in wan.summaries] == ["wan-5-2", "wan-5-4", "wan-9-2", "wan-9-4"]
    sd = series[2]
    assert [(s.runs, s.failed) for s in sd.summaries] == [(1, 0), (1, 1)]


def test_scaling_points_fit_and_predicted_curve(records, synth) -> None:
    data = scaling_data(_series(records, synth.WAN), synth.FakePredictor())
    assert data is not None and data.series == WAN_LABEL
    assert [(p.response, p.variable) for p in data.panels] == [
        ("energy_j", "num_frames"),
        ("energy_j", "steps"),
        ("latency_s", "num_frames"),
        ("latency_s", "steps"),
    ]  # pixels and prompt tokens have one level each: no slope to draw
    frames = data.panels[0]
    assert frames.x == (5, 5, 9, 9)
    assert frames.y == (5.0, 10.0, 9.0, 18.0)  # 0.5 x frames x steps, mean of repeats
    assert frames.provenance == ("measured",) * 4
    assert frames.slope == pytest.approx(1.0, abs=1e-9)
    assert frames.fit_x == (5, 9)
    # The fit line holds steps at their geometric mean, sqrt(2 x 4).
    assert frames.fit_y == pytest.approx((0.5 * 5 * math.sqrt(8), 0.5 * 9 * math.sqrt(8)))
    # Predicted: frames x steps, geometric mean over steps at each frame count.
    assert frames.predicted_x == (5, 9)
    assert frames.predicted_y == pytest.approx((5 * math.sqrt(8), 9 * math.sqrt(8)))
    steps = data.panels[1]
    assert steps.x == (2, 4, 2, 4) and steps.slope == pytest.approx(1.0, abs=1e-9)
    latency_frames = data.panels[2]
    assert latency_frames.y == pytest.approx(
        [synth.wan_latency_s(f, s) for f in (5, 9) for s in (2, 4)]
    )
    assert latency_frames.slope == pytest.approx(0.5, abs=1e-9)
    assert latency_frames.predicted_y == pytest.approx((5.0, 9.0))
    assert data.r_squared == pytest.approx({"energy_j": 1.0, "latency_s": 1.0})
    assert data.predicted_note == ""


def test_scaling_without_prediction_says_why(records, synth) -> None:
    sd = scaling_data(_series(records, "sd-tiny"), synth.FakePredictor())
    assert sd is not None
    assert [p.variable for p in sd.panels] == ["pixels", "pixels"]
    assert sd.panels[0].x == (256, 1024) and sd.panels[0].y == (0.25, 1.0)
    assert sd.panels[0].provenance == ("estimated", "estimated")
    assert sd.panels[0].predicted_x == ()
    assert sd.predicted_note == "no GPU in this run"
    assert scaling_data(_series(records, "llama-tiny"), synth.FakePredictor()) is None


def test_phase_bars_with_predicted_bars(records, synth) -> None:
    data = phase_data(_series(records, synth.WAN), synth.FakePredictor())
    assert data is not None
    assert data.phases == ("text_encode", "denoise", "vae_decode", "other")
    first, predicted = data.bars[0], data.bars[1]
    assert first.label == "5f 32x32 2 steps" and first.provenance == "measured"
    assert first.phases_j == {
        "text_encode": 5 / 8,
        "denoise": 25 / 8,
        "vae_decode": 5 / 8,
        "other": 5 / 8,
    }
    assert first.total_j == 5.0
    assert predicted.label == "5f 32x32 2 steps (predicted, GPU)"
    assert predicted.provenance == "predicted"
    assert predicted.phases_j == {"text_encode": 2.5, "denoise": 5.0, "vae_decode": 2.5}
    assert len(data.bars) == 8
    text = phase_data(_series(records, "llama-tiny"), synth.FakePredictor())
    assert text is not None and text.phases == ("prefill", "decode", "other")
    assert text.bars[0].phases_j == {"prefill": 0.5, "decode": 1.0, "other": 0.5}


def test_step_energy_for_the_configurations_with_most_steps(records, synth) -> None:
    data = step_data(_series(records, synth.WAN))
    assert data is not None and data.unit == "denoising step" and data.configurations == 2
    assert [line.label for line in data.lines] == ["5f 32x32 4 steps", "9f 32x32 4 steps"]
    assert data.lines[0].index == (0, 1, 2, 3)
    assert data.lines[0].energy_j == (10 * 5 / 8 / 4,) * 4
    assert data.lines[1].energy_j == (18 * 5 / 8 / 4,) * 4
    assert {line.provenance for line in data.lines} == {"measured"}
    tokens = step_data(_series(records, "llama-tiny"))
    assert tokens is not None and tokens.unit == "decoded token"
    assert tokens.lines[0].index == (1, 2, 3, 4)
    assert tokens.lines[0].energy_j == (0.25,) * 4
    assert tokens.lines[0].provenance == "estimated"
    assert step_data(_series(records, "sd-tiny")) is None  # one step: nothing to compare


def test_timelines_newest_first(records) -> None:
    found = timeline_data(records)
    measure, cog = found
    last_id = max(r.id for r in records)
    assert measure.title == f"run {last_id}: python3 train.py"
    assert measure.window == "run"
    assert measure.t_s == (0.5, 1.0, 1.5, 2.0)
    assert measure.power_w == {"cpu:0": (10.0, 12.0, 12.0, 11.0)}
    assert measure.provenance == {"cpu:0": "estimated"}
    assert (measure.energy_j, measure.duration_s) == (22.5, 2.0)
    assert cog.title.endswith("cogvideox-tiny 9f 32x32 2 steps") and cog.window == "generation"


def test_leaderboard_rows_floor_and_ratings(records, synth) -> None:
    content = collect(records, synth.FakePredictor())
    board = content.leaderboard
    rows = board.configurations  # every configuration, series by series, as measured
    assert [(r.model, r.settings) for r in rows] == [
        ("cogvideox-tiny", "9f 32x32 2 steps"),
        (synth.WAN, "5f 32x32 2 steps"),
        (synth.WAN, "5f 32x32 4 steps"),
        (synth.WAN, "9f 32x32 2 steps"),
        (synth.WAN, "9f 32x32 4 steps"),
        ("sd-tiny", "16x16 1 steps"),
        ("sd-tiny", "32x32 1 steps"),
        ("llama-tiny", "16→4 tokens"),
    ]
    best = rows[1]
    assert best.energy_j == 5.0 and best.energy_wh == 5.0 / 3600
    assert best.energy_kwh_per_1000 == j_to_kwh(5000.0)
    assert best.co2e_g == j_to_kwh(5.0) * WORLD.g_per_kwh  # world average, no country given
    assert best.equivalents[0].value == pytest.approx(j_to_kwh(5000.0) / 0.012)
    assert best.gpu_energy_j == 5.0 and best.predicted_energy_j == 10.0
    assert best.floor_j == 10.0 / 16 and best.above_floor == 8.0
    assert best.provenance == "measured" and best.floor_note == ""
    cog = rows[0]
    assert cog.above_floor is None and cog.floor_note == "no GPU in this run"
    assert all(r.stars is None for r in rows)  # configurations are listed, not rated
    assert (rows[6].runs, rows[6].failed) == (1, 1)
    # The ranking compares the two t2v models where both ran: 9 frames, 32x32, 2 steps.
    (ranking,) = board.rankings
    assert ranking.task == "t2v" and ranking.settings == "9f 32x32 2 steps"
    assert [(r.model, r.energy_j, r.stars) for r in ranking.rows] == [
        (synth.WAN, 9.0, 5),
        ("cogvideox-tiny", 64.0, 1),
    ]
    assert ranking.other_shared == 0 and ranking.left_out == ()
    assert len(board.unranked) == 2  # one model each of t2i and text: nothing to rank
    assert "only sd-tiny was measured" in board.unranked[0]
    assert "only llama-tiny was measured" in board.unranked[1]
    assert content.runs == 14 and content.failed == 1
    assert content.provenance_counts == {"measured": 8, "estimated": 5}
    assert not content.estimated_only
    assert content.figure_count == 11
    assert [r.config["command"] for r in content.other_runs] == ["python3 train.py"]


def test_leaderboard_prices_each_configuration_on_the_grid_its_runs_stored(
    records, synth, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from genwatt.carbon import grid_intensity
    from genwatt.carbon.setting import RECORD_KEY, CarbonSetting

    france = CarbonSetting(grid_intensity("FR"), 1.2)
    stored = [
        replace(r, extra={**r.extra, RECORD_KEY: france.to_dict()})
        if r.config.get("model") == synth.WAN
        else r
        for r in records
    ]
    monkeypatch.setenv("GENWATT_COUNTRY", "PL")  # the reader's environment plays no part
    board = collect(stored, synth.FakePredictor()).leaderboard
    wan = next(r for r in board.configurations if r.model == synth.WAN)
    cog = next(r for r in board.configurations if r.model == "cogvideox-tiny")
    assert wan.co2e_g == pytest.approx(france.co2e(wan.energy_j).co2e_g)
    assert cog.co2e_g == pytest.approx(j_to_kwh(cog.energy_j) * WORLD.g_per_kwh)  # nothing stored
    assert any("France" in g and "stored with the runs" in g for g in board.grids)
    assert any("world average" in g and "no country stored" in g for g in board.grids)
    asked = collect(stored, synth.FakePredictor(), country="DE").leaderboard
    germany = CarbonSetting(grid_intensity("DE"), 1.2)  # the stored PUE stays
    wan_de = next(r for r in asked.configurations if r.model == synth.WAN)
    assert wan_de.co2e_g == pytest.approx(germany.co2e(wan_de.energy_j).co2e_g)
