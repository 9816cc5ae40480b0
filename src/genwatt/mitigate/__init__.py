"""Cutting inference energy, and proving the output did not suffer.

This package will hold the mitigation strategies (step caching, activation reuse), the
quality metrics that judge them against the unmitigated baseline, and the small
text-to-video reference model genwatt trains itself so that judgement rests on a model
whose correct output is known. So far it holds the groundwork:

* ``synthetic``: the captioned toy videos the reference model learns from;
* ``adherence``: an automatic check that a video shows its caption;
* ``quality``: PSNR and SSIM of a strategy's output against the baseline.

Numpy and scipy only; torch and diffusers stay out of this import.
"""

from __future__ import annotations

from genwatt.mitigate.adherence import AdherenceResult, check_adherence, score
from genwatt.mitigate.quality import PSNR_CAP_DB, psnr_db, ssim
from genwatt.mitigate.synthetic import (
    COLOURS,
    DIRECTIONS,
    SHAPES,
    Caption,
    all_captions,
    render,
    sample_dataset,
    shape_mask,
    split_prompts,
)

__all__ = [
    "COLOURS",
    "DIRECTIONS",
    "PSNR_CAP_DB",
    "SHAPES",
    "AdherenceResult",
    "Caption",
    "all_captions",
    "check_adherence",
    "psnr_db",
    "render",
    "sample_dataset",
    "score",
    "shape_mask",
    "split_prompts",
    "ssim",
]
