"""A deterministic generator of captioned toy videos: coloured shapes moving on a plain field.

Why this data: genwatt trains its own small text-to-video reference model so that
mitigation strategies (step caching, reuse) can be judged on a model whose correct output
is known. The WAN transformer only sees relative (RoPE) positions, so the caption must fix
*relative* motion: the start position is random, the object moves by a whole number of
latent pixels per frame (``step_px`` a multiple of the codec's patch size, ``PATCH_PX``),
and frame size, object size and background are fixed. A caption (``captions``) therefore
names exactly what the model can learn: a colour, a shape and a direction.

Numpy only; every video is a float32 array ``(frames, height, width, 3)`` in ``[0, 1]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genwatt.errors import ConfigError
from genwatt.models.reference.architecture import PATCH_PX
from genwatt.models.reference.captions import (
    COLOURS,
    DIRECTIONS,
    RGB,
    SHAPES,
    Caption,
    all_captions,
)

BACKGROUND: RGB = (0.0, 0.0, 0.0)
DEFAULT_OBJECT_PX = 8


def shape_mask(shape: str, object_px: int) -> np.ndarray:
    """A boolean ``(object_px, object_px)`` mask whose bounding box is the full square.

    Hard edges (no anti-aliasing) so every pixel is either background or the exact
    caption colour: the adherence check and the codec see a clean, finite set of patches.
    """
    if shape not in SHAPES:
        raise ConfigError(f"unknown shape {shape!r}; choose one of {list(SHAPES)}")
    if object_px < 3:
        raise ConfigError(f"object_px must be >= 3 to tell shapes apart; got {object_px}")
    centre = (np.arange(object_px) + 0.5) - object_px / 2
    dx = centre[None, :]
    dy = centre[:, None]
    if shape == "square":
        return np.ones((object_px, object_px), dtype=bool)
    if shape == "circle":
        return dx**2 + dy**2 <= (object_px / 2) ** 2
    # Triangle pointing up: half-width grows from 1/2 px at the top row to object_px/2.
    rows = np.arange(object_px)[:, None]
    return np.abs(dx) <= (rows + 1) / 2


def _path_extent_px(frames: int, step_px: int) -> int:
    return (frames - 1) * step_px


def render(
    caption: Caption,
    *,
    frames: int,
    size: int,
    start_xy: tuple[int, int],
    step_px: int,
    object_px: int = DEFAULT_OBJECT_PX,
    background: RGB = BACKGROUND,
) -> np.ndarray:
    """Draw one clip: the object's top-left corner starts at ``start_xy`` = (x, y) pixels.

    Raises ``ConfigError`` when the object would leave the frame at any time: a clip whose
    object is clipped at the border shows a different shape than its caption says.
    """
    if frames < 1 or size < 1 or step_px < 0:
        raise ConfigError(f"need frames >= 1, size >= 1, step_px >= 0; got {frames}, {size}")
    colour = np.asarray(COLOURS[caption.colour], dtype=np.float32)
    bg = np.asarray(background, dtype=np.float32)
    if bg.shape != (3,) or np.any(bg < 0) or np.any(bg > 1):
        raise ConfigError(f"background must be three values in [0, 1]; got {background}")
    if np.abs(colour - bg).max() < 0.5:
        raise ConfigError(f"background {background} is too close to {caption.colour}")
    mask = shape_mask(caption.shape, object_px)
    ux, uy = DIRECTIONS[caption.direction]
    x0, y0 = start_xy
    video = np.empty((frames, size, size, 3), dtype=np.float32)
    video[:] = bg
    for t in range(frames):
        x, y = x0 + ux * step_px * t, y0 + uy * step_px * t
        if x < 0 or y < 0 or x + object_px > size or y + object_px > size:
            raise ConfigError(
                f"{caption.text()!r} from {start_xy} leaves the {size}x{size} frame at "
                f"frame {t}; pick a start where the whole path fits"
            )
        video[t, y : y + object_px, x : x + object_px][mask] = colour
    return video


def _start_range(
    direction: str, *, frames: int, size: int, step_px: int, object_px: int
) -> tuple[range, range]:
    """Valid top-left x and y so the object stays fully inside the frame for the whole clip."""
    ux, uy = DIRECTIONS[direction]
    extent = _path_extent_px(frames, step_px)
    free = size - object_px

    def axis(u: int) -> range:
        if u > 0:
            return range(0, free - extent + 1)
        if u < 0:
            return range(extent, free + 1)
        return range(0, free + 1)

    return axis(ux), axis(uy)


def sample_dataset(
    n: int,
    *,
    seed: int,
    frames: int = 5,
    size: int = 32,
    step_px: int = PATCH_PX,
    object_px: int = DEFAULT_OBJECT_PX,
    captions: Sequence[Caption] | None = None,
    background: RGB = BACKGROUND,
    patch_px: int = PATCH_PX,
) -> list[tuple[Caption, np.ndarray]]:
    """``n`` (caption, video) pairs, the same for the same arguments and ``seed``.

    Captions are drawn uniformly from ``captions`` (default: all of them; pass the train
    half of ``split_prompts`` for training). Start positions are uniform over every
    position whose whole path fits, at single-pixel resolution, so the model cannot learn
    absolute positions. ``step_px`` must be a multiple of ``patch_px`` so the motion is a
    whole number of latent pixels per frame.
    """
    if n < 0:
        raise ConfigError(f"n must be >= 0; got {n}")
    if step_px <= 0 or step_px % patch_px:
        raise ConfigError(f"step_px must be a positive multiple of {patch_px}; got {step_px}")
    if _path_extent_px(frames, step_px) + object_px > size:
        raise ConfigError(
            f"a {object_px} px object moving {step_px} px/frame for {frames} frames does "
            f"not fit in {size} px; use a larger size or fewer frames"
        )
    pool = list(captions) if captions is not None else all_captions()
    if not pool:
        raise ConfigError("captions is empty; pass at least one Caption")
    rng = np.random.default_rng(seed)
    out: list[tuple[Caption, np.ndarray]] = []
    for _ in range(n):
        caption = pool[int(rng.integers(len(pool)))]
        xs, ys = _start_range(
            caption.direction, frames=frames, size=size, step_px=step_px, object_px=object_px
        )
        start = (int(rng.choice(xs)), int(rng.choice(ys)))
        video = render(
            caption,
            frames=frames,
            size=size,
            start_xy=start,
            step_px=step_px,
            object_px=object_px,
            background=background,
        )
        out.append((caption, video))
    return out
