"""The adherence check: perfect on real data, near chance on noise, robust to mild noise."""

from __future__ import annotations

import numpy as np
import pytest

from genwatt.errors import ConfigError
from genwatt.models.reference.adherence import check_adherence, score
from genwatt.models.reference.captions import Caption
from genwatt.models.reference.synthetic import render, sample_dataset

OPPOSITE = {"left": "right", "right": "left", "up": "down", "down": "up"}


@pytest.fixture(scope="module")
def real() -> list[tuple[Caption, np.ndarray]]:
    return sample_dataset(300, seed=123)


def test_ground_truth_passes_everything(real: list[tuple[Caption, np.ndarray]]) -> None:
    rates = score(check_adherence(v, c) for c, v in real)
    assert rates == {
        "colour_rate": 1.0,
        "direction_rate": 1.0,
        "shape_rate": 1.0,
        "overall_rate": 1.0,
        "n_videos": 300.0,
    }


def test_larger_clips_pass_everything() -> None:
    data = sample_dataset(60, seed=5, frames=9, size=64, object_px=12)
    assert score(check_adherence(v, c) for c, v in data)["overall_rate"] == 1.0


def test_mild_gaussian_noise_keeps_rates_high(real: list[tuple[Caption, np.ndarray]]) -> None:
    rng = np.random.default_rng(0)
    noisy = [(c, np.clip(v + rng.normal(0, 0.05, v.shape), 0, 1)) for c, v in real]
    rates = score(check_adherence(v, c) for c, v in noisy)
    assert min(rates["colour_rate"], rates["direction_rate"], rates["shape_rate"]) >= 0.95


def test_uniform_noise_is_far_below_the_targets(real: list[tuple[Caption, np.ndarray]]) -> None:
    rng = np.random.default_rng(1)
    rates = score(check_adherence(rng.random(v.shape), c) for c, v in real[:200])
    assert rates["colour_rate"] < 0.35  # chance is 1/6
    assert rates["direction_rate"] < 0.5
    assert rates["shape_rate"] < 0.6  # chance is 1/3
    assert rates["overall_rate"] < 0.05


@pytest.mark.parametrize("field", ["colour", "direction", "shape"])
def test_a_wrong_caption_fails_exactly_its_criterion(
    real: list[tuple[Caption, np.ndarray]], field: str
) -> None:
    for caption, video in real[:60]:
        words = {"colour": caption.colour, "shape": caption.shape, "direction": caption.direction}
        words[field] = {
            "colour": "blue" if caption.colour != "blue" else "red",
            "shape": "square" if caption.shape != "square" else "triangle",
            "direction": OPPOSITE[caption.direction],
        }[field]
        result = check_adherence(video, Caption(**words))
        oks = {"colour": result.colour_ok, "direction": result.direction_ok}
        oks["shape"] = result.shape_ok
        assert oks == {k: k != field for k in oks}, result.details


def test_static_object_fails_direction() -> None:
    video = render(
        Caption("red", "circle", "left"), frames=5, size=32, start_xy=(10, 10), step_px=0
    )
    result = check_adherence(video, Caption("red", "circle", "left"))
    assert result.colour_ok and result.shape_ok and not result.direction_ok


def test_blank_video_fails_everything() -> None:
    result = check_adherence(np.zeros((5, 32, 32, 3)), Caption("red", "circle", "left"))
    assert not (result.colour_ok or result.direction_ok or result.shape_ok)


def test_background_is_estimated_not_assumed() -> None:
    caption = Caption("blue", "triangle", "down")
    video = render(caption, frames=5, size=32, start_xy=(5, 1), step_px=4, background=(0.5,) * 3)
    assert check_adherence(video, caption).all_ok


def test_bad_inputs_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="video"):
        check_adherence(np.zeros((32, 32, 3)), Caption("red", "circle", "left"))
    with pytest.raises(ConfigError, match="at least one"):
        score([])
