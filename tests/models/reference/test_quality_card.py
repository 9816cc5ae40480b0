"""The first-frame-given check: its sampler lands on what the denoiser points at."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import torch

from genwatt.models.reference.captions import Caption
from genwatt.models.reference.flow import clips_to_pixels
from genwatt.models.reference.pipeline import build_pipeline
from genwatt.models.reference.quality_card import _real_clip, adherence_given_first_frame

CAPTIONS = [Caption("red", "square", "right"), Caption("blue", "circle", "up")]
SEED = 3


class Oracle(torch.nn.Module):
    """Points every later frame at fixed target latents: ``v = (x - target) / sigma``,
    so an exact Euler sampler ends on the target. Checks the later frames' timesteps."""

    config = SimpleNamespace(patch_size=(1, 2, 2))

    def __init__(self, target: torch.Tensor) -> None:
        super().__init__()
        self.target = target

    def forward(self, x: torch.Tensor, timestep: torch.Tensor, *_: Any, **__: Any) -> Any:
        tokens_per_frame = timestep.shape[1] // x.shape[2]
        assert torch.all(timestep[:, :tokens_per_frame] == 0)  # the given first frame
        sigma = timestep[:, -1].view(-1, 1, 1, 1, 1) / 1000
        return ((x - self.target) / sigma,)


def fake_pipe(target_clips: list) -> SimpleNamespace:
    pipe = build_pipeline(seed=0)
    codec = pipe.vae
    target = codec.normalize(codec.encode(clips_to_pixels(target_clips)))
    return SimpleNamespace(
        vae=codec,
        scheduler=pipe.scheduler,
        transformer=Oracle(target),
        encode_prompt=lambda texts, **_: (torch.zeros(len(texts), 8, 64), None),
    )


@pytest.mark.parametrize("moving", [True, False])
def test_the_sampler_follows_the_denoiser_from_the_given_first_frame(moving: bool) -> None:
    real = [_real_clip(c, SEED, i) for i, c in enumerate(CAPTIONS)]
    # The target either continues the first frame as the caption says, or stands still.
    targets = real if moving else [clip[[0, 0, 0]] for clip in real]
    rates = adherence_given_first_frame(fake_pipe(targets), CAPTIONS, [SEED])
    assert rates["colour_rate"] == 1.0 and rates["n_videos"] == 2
    assert rates["direction_rate"] == (1.0 if moving else 0.0)
