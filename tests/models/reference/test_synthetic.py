"""The toy video generator: captions, rendering, determinism, paths that fit, the split."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from genwatt.errors import ConfigError
from genwatt.models.reference.captions import (
    COLOURS,
    DIRECTIONS,
    SHAPES,
    Caption,
    all_captions,
    split_prompts,
)
from genwatt.models.reference.synthetic import BACKGROUND, render, sample_dataset, shape_mask


def test_caption_text_and_validation() -> None:
    assert Caption("red", "circle", "left").text() == "a red circle moves left"
    with pytest.raises(ConfigError, match="colour"):
        Caption("purple", "circle", "left")
    with pytest.raises(ConfigError, match="direction"):
        Caption("red", "circle", "sideways")


def test_palette_is_well_separated() -> None:
    rgb = np.asarray(list(COLOURS.values()))
    for a, b in combinations(range(len(rgb)), 2):
        assert np.linalg.norm(rgb[a] - rgb[b]) >= 1.0
    assert np.linalg.norm(rgb - np.asarray(BACKGROUND), axis=1).min() >= 1.0


@pytest.mark.parametrize("object_px", [6, 8, 12])
def test_shape_masks_fill_their_box_and_differ(object_px: int) -> None:
    fills = {}
    for shape in SHAPES:
        mask = shape_mask(shape, object_px)
        assert mask.any(axis=0).all() and mask.any(axis=1).all()
        fills[shape] = mask.mean()
    assert fills["triangle"] < fills["circle"] - 0.1 < fills["square"] - 0.2


def test_render_moves_by_step_and_keeps_colours_exact() -> None:
    caption = Caption("green", "square", "right")
    video = render(caption, frames=5, size=32, start_xy=(2, 3), step_px=4, object_px=8)
    assert video.shape == (5, 32, 32, 3) and video.dtype == np.float32
    assert set(np.unique(video)) <= {0.0, 1.0}
    for t in range(5):
        ys, xs = np.nonzero(video[t, :, :, 1])
        assert (xs.min(), ys.min()) == (2 + 4 * t, 3)


def test_render_refuses_a_path_that_leaves_the_frame() -> None:
    with pytest.raises(ConfigError, match="leaves"):
        render(Caption("red", "circle", "left"), frames=5, size=32, start_xy=(8, 0), step_px=4)


def test_sample_dataset_is_deterministic_and_stays_inside() -> None:
    a = sample_dataset(40, seed=7)
    b = sample_dataset(40, seed=7)
    c = sample_dataset(40, seed=8)
    assert all(ca == cb and np.array_equal(va, vb) for (ca, va), (cb, vb) in zip(a, b, strict=True))
    assert any(not np.array_equal(va, vc) for (_, va), (_, vc) in zip(a, c, strict=True))
    for caption, video in a:
        colour = np.asarray(COLOURS[caption.colour], dtype=np.float32)
        area = np.all(video == colour, axis=-1).sum(axis=(1, 2))
        assert (area == shape_mask(caption.shape, 8).sum()).all()  # never clipped


def test_sample_dataset_starts_are_spread_over_the_frame() -> None:
    """Relative motion only: start positions must not be pinned to the latent grid or a spot."""
    starts = set()
    for caption, video in sample_dataset(200, seed=0, captions=[Caption("red", "square", "up")]):
        ys, xs = np.nonzero(video[0, :, :, 0])
        starts.add((int(xs.min()), int(ys.min())))
        assert caption.direction == "up"
    assert len({x % 4 for x, _ in starts}) == 4
    assert len(starts) > 50


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"step_px": 3}, "multiple"), ({"frames": 9, "size": 32}, "fit"), ({"captions": []}, "empty")],
)
def test_sample_dataset_rejects_bad_settings(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        sample_dataset(1, seed=0, **kwargs)  # type: ignore[arg-type]


def _pair(caption: Caption, pick: tuple[int, int]) -> tuple[str, str]:
    words = (caption.colour, caption.shape, caption.direction)
    return words[pick[0]], words[pick[1]]


@pytest.mark.parametrize("fold", range(4))
def test_split_holds_out_unseen_triples_of_seen_pairs(fold: int) -> None:
    train, held_out = split_prompts(fold=fold)
    assert not set(train) & set(held_out)
    assert sorted(train + held_out) == sorted(all_captions())
    assert len(held_out) == len(all_captions()) // 4
    for pick in ((0, 1), (0, 2), (1, 2)):
        seen = {_pair(c, pick) for c in train}
        assert all(_pair(c, pick) in seen for c in held_out)


def test_folds_partition_the_captions() -> None:
    held = [c for fold in range(4) for c in split_prompts(fold=fold)[1]]
    assert sorted(held) == sorted(all_captions())
    assert len(DIRECTIONS) * len(SHAPES) * len(COLOURS) == len(held)
