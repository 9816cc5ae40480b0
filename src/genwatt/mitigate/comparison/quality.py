"""Output quality of a mitigated run against the unmitigated baseline: PSNR and SSIM.

Why two numbers: PSNR is a plain pixel error that is easy to check by hand; SSIM weighs
structure and tracks what a viewer notices. Both compare a strategy's output (step
caching, reuse) with the baseline output for the same prompt and seed.

Inputs are arrays in ``[0, data_range]``: a video ``(frames, H, W, C)``, an image
``(H, W, C)`` or a grey image ``(H, W)``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter

from genwatt.errors import ConfigError

SSIM_SIGMA_PX = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ConfigError(f"cannot compare outputs of shapes {a.shape} and {b.shape}")
    if a.ndim not in (2, 3, 4) or a.size == 0:
        raise ConfigError(f"expected (H, W), (H, W, C) or (F, H, W, C); got {a.shape}")
    return a, b


def psnr_db(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB over all elements; ``inf`` when ``a == b``.

    Averaging across prompts: cap each value at ``conventions.PSNR_CAP_DB`` first, so
    one exact match does not make the mean infinite.
    """
    a, b = _pair(a, b)
    mse = float(np.mean((a - b) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(data_range**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float:
    """Mean structural similarity: Gaussian window (sigma 1.5 px), K1 = 0.01, K2 = 0.03.

    Computed per frame and per channel, on the spatial axes only (frames never blur into
    each other), and averaged over the whole map, frames and channels. Statistics use the
    population (not sample) variance and reflect at the border, so values differ slightly
    from scikit-image's default, which crops the border; 1.0 means identical.
    """
    a, b = _pair(a, b)
    sigma = {2: (SSIM_SIGMA_PX,) * 2, 3: (SSIM_SIGMA_PX, SSIM_SIGMA_PX, 0.0)}.get(
        a.ndim, (0.0, SSIM_SIGMA_PX, SSIM_SIGMA_PX, 0.0)
    )

    def blur(x: np.ndarray) -> np.ndarray:
        return gaussian_filter(x, sigma=sigma, mode="reflect", truncate=3.5)

    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))
