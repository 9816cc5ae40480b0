"""Rectified-flow helpers shared by training the reference model and checking its card.

Why a library of its own: ``training`` uses them to build each batch, and the quality
card (``quality_card``) to sample with a real first frame given, the conditioning the
model was trained with; neither should import the other. Flow relations as WAN uses
them: input ``(1 - sigma) x0 + sigma e`` at timestep ``1000 sigma``, velocity ``e - x0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from genwatt.models.reference.architecture import MAX_TEXT_TOKENS

if TYPE_CHECKING:
    import torch
    from diffusers import WanPipeline


def clips_to_pixels(videos: Sequence[np.ndarray]) -> torch.Tensor:
    """``(F, H, W, 3)`` clips in ``[0, 1]`` to a ``(B, 3, F, H, W)`` batch in ``[-1, 1]``."""
    import torch

    batch = torch.from_numpy(np.stack(videos)).permute(0, 4, 1, 2, 3)
    return batch * 2.0 - 1.0


def embed_texts(pipe: WanPipeline, texts: Sequence[str]) -> torch.Tensor:
    """The text encoder's embeddings of ``texts`` as the transformer takes them (no grad)."""
    import torch

    with torch.no_grad():
        return pipe.encode_prompt(
            list(texts),
            do_classifier_free_guidance=False,
            max_sequence_length=MAX_TEXT_TOKENS,
            device=torch.device("cpu"),
        )[0]


def frame_tokens(pipe: WanPipeline, size: int) -> int:
    """Transformer tokens per frame of a ``size`` x ``size`` clip."""
    _, patch_h, patch_w = pipe.transformer.config.patch_size
    latent_px = size // pipe.vae.config.patch_px
    return (latent_px // patch_h) * (latent_px // patch_w)


def shifted_sigma(u: torch.Tensor, shift: float) -> torch.Tensor:
    """WAN's flow shift: noise level ``sigma`` for a uniform ``u`` in [0, 1]; ``shift`` > 1
    spends more of the steps (or training samples) at high noise."""
    return shift * u / (1 + (shift - 1) * u)


def token_timesteps(frame_sigma: torch.Tensor, tokens_per_frame: int) -> torch.Tensor:
    """The transformer's per-token timesteps ``(batch, tokens)`` for per-frame noise levels;
    tokens are frame-major after patch embedding, ``tokens_per_frame`` to a frame."""
    return (frame_sigma * 1000).repeat_interleave(tokens_per_frame, dim=1)
