"""Cutting inference energy, and proving what the output lost.

The mitigation strategies (``caching``, ``adaptive_cache``, ``reuse``, ``baselines``; all
``strategy.Strategy``), the runner that compares them with the unmitigated baseline
(``compare``, counting executed FLOPs with ``work`` and timing apart from that count,
``timing``), and the small text-to-video reference model genwatt trains itself
(``reference``, ``codec``, ``train``) so that judgement rests on a model whose correct
output is known (``synthetic``, ``adherence``, ``quality``, ``reference_quality``).

Only numpy and scipy load with this package; the modules that need torch and diffusers
are imported from their own names.
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
