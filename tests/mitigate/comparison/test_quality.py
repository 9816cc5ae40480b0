"""PSNR and SSIM against cases that can be checked by hand."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest

from genwatt.errors import ConfigError
from genwatt.mitigate.comparison.conventions import PSNR_CAP_DB
from genwatt.mitigate.comparison.quality import SSIM_K1, psnr_db, ssim


@pytest.fixture(scope="module")
def video() -> np.ndarray:
    return np.random.default_rng(0).random((5, 32, 32, 3))


def test_identical_outputs(video: np.ndarray) -> None:
    assert psnr_db(video, video) == math.inf
    assert min(psnr_db(video, video), PSNR_CAP_DB) == 100.0
    assert ssim(video, video) == pytest.approx(1.0)


def test_psnr_of_a_constant_offset_is_exact() -> None:
    a = np.zeros((4, 8, 8, 3))
    assert psnr_db(a, a + 0.1) == pytest.approx(20.0)
    assert psnr_db(a, a + 0.1 * 255, data_range=255) == pytest.approx(20.0)


@pytest.mark.parametrize("sigma", [0.01, 0.05, 0.1])
def test_psnr_of_gaussian_noise_matches_its_level(sigma: float) -> None:
    a = np.full((8, 64, 64, 3), 0.5)
    noise = np.random.default_rng(1).normal(0, sigma, a.shape)
    assert psnr_db(a, a + noise) == pytest.approx(-20 * math.log10(sigma), abs=0.1)


def test_ssim_of_two_flat_images_follows_the_luminance_term() -> None:
    c1 = SSIM_K1**2
    expected = (2 * 0.2 * 0.6 + c1) / (0.2**2 + 0.6**2 + c1)
    assert ssim(np.full((16, 16), 0.2), np.full((16, 16), 0.6)) == pytest.approx(expected)


def test_ssim_falls_monotonically_with_noise(video: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(0, 1, video.shape)
    values = [ssim(video, video + s * base) for s in (0.0, 0.01, 0.05, 0.1, 0.2, 0.4)]
    assert all(b < a for a, b in pairwise(values))
    assert values[-1] < 0.5


def test_metrics_are_symmetric(video: np.ndarray) -> None:
    other = np.clip(video + np.random.default_rng(3).normal(0, 0.1, video.shape), 0, 1)
    assert psnr_db(video, other) == psnr_db(other, video)
    assert ssim(video, other) == pytest.approx(ssim(other, video), abs=1e-12)


def test_frames_do_not_blur_into_each_other() -> None:
    """A change confined to frame 0 leaves the other frames' SSIM at exactly 1."""
    a = np.random.default_rng(4).random((4, 16, 16, 3))
    b = a.copy()
    b[0] = 1 - b[0]
    per_frame = [ssim(a[t], b[t]) for t in range(4)]
    assert per_frame[1:] == pytest.approx([1.0, 1.0, 1.0])
    assert ssim(a, b) == pytest.approx(np.mean(per_frame))


def test_shape_mismatch_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="shapes"):
        psnr_db(np.zeros((2, 4, 4, 3)), np.zeros((2, 4, 4, 1)))
    with pytest.raises(ConfigError, match="expected"):
        ssim(np.zeros(5), np.zeros(5))
