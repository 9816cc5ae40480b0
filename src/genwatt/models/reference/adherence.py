"""An automatic prompt-adherence check for the toy videos: colour, direction, shape.

Why: the reference model's quality must be measured, not assumed. The same check runs on
real data (an upper bound, 100 %), on the trained model's samples, and on random weights
(a floor near chance), over held-out prompts and seeds.

The check is built for generated videos, which are noisy and imperfect:

* the background is estimated (per-channel median), not assumed;
* every pixel is labelled with the nearest of the palette colours and the background;
* the *tracked* colour is the described one if it is present, else the dominant one, so
  the three criteria fail independently (a wrong colour does not also fail direction);
* per frame, only the largest 8-connected blob of the tracked colour counts, so stray
  specks neither move the centroid nor spoil the shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from genwatt.errors import ConfigError
from genwatt.models.reference.architecture import PATCH_PX
from genwatt.models.reference.captions import COLOURS, DIRECTIONS, SHAPES, Caption
from genwatt.models.reference.synthetic import shape_mask

_PALETTE_NAMES = tuple(COLOURS)
_PALETTE = np.asarray([COLOURS[n] for n in _PALETTE_NAMES], dtype=np.float32)
_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class AdherenceResult:
    """Which parts of the caption a video shows; ``details`` says what was measured."""

    colour_ok: bool
    direction_ok: bool
    shape_ok: bool
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def all_ok(self) -> bool:
        """The video shows the whole caption."""
        return self.colour_ok and self.direction_ok and self.shape_ok


def _label_pixels(video: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel: palette index, or -1 for background. Also returns the background colour."""
    background = np.median(video.reshape(-1, 3), axis=0)
    refs = np.concatenate([_PALETTE, background[None, :].astype(np.float32)])
    dist = ((video[..., None, :] - refs) ** 2).sum(-1)
    label = dist.argmin(-1)
    label[label == len(_PALETTE)] = -1
    return label, background


def _largest_blob(mask: np.ndarray) -> np.ndarray | None:
    labels, n = ndimage.label(mask, structure=_EIGHT_CONNECTED)
    if n == 0:
        return None
    sizes = np.bincount(labels.ravel())[1:]
    return labels == (int(sizes.argmax()) + 1)


def _nearest_shape(fill_ratio: float, object_px: int) -> tuple[str, dict[str, float]]:
    """The shape whose rendered mask at this size has the nearest bounding-box fill ratio."""
    protos = {s: float(shape_mask(s, max(object_px, 3)).mean()) for s in SHAPES}
    return min(protos, key=lambda s: abs(protos[s] - fill_ratio)), protos


def check_adherence(
    video: np.ndarray,
    caption: Caption,
    *,
    step_px: float = PATCH_PX,
    min_object_px: int = 6,
) -> AdherenceResult:
    """Check one ``(frames, H, W, 3)`` video in ``[0, 1]`` against its caption.

    * colour: the described colour is the most frequent non-background palette colour and
      shows at least ``min_object_px`` pixels in at least half the frames;
    * direction: a least-squares line through the per-frame centroids of the tracked blob
      moves along the described direction by at least half the expected
      ``step_px * (frames - 1)``, and more along that axis than across it;
    * shape: the median bounding-box fill ratio of the blob (circle ~0.8, square 1.0,
      triangle ~0.6 at 8 px) is nearest to the described shape's.
    """
    video = np.asarray(video, dtype=np.float32)
    if video.ndim != 4 or video.shape[-1] != 3 or video.shape[0] < 2:
        raise ConfigError(f"expected a (frames >= 2, H, W, 3) video; got shape {video.shape}")
    n_frames = video.shape[0]
    label, background = _label_pixels(video)
    counts = np.stack([(label == i).sum(axis=(1, 2)) for i in range(len(_PALETTE))], axis=1)
    described = _PALETTE_NAMES.index(caption.colour)
    dominant = int(counts.sum(0).argmax())
    frames_present = int((counts[:, described] >= min_object_px).sum())
    colour_ok = dominant == described and counts[:, dominant].sum() > 0
    colour_ok = colour_ok and 2 * frames_present >= n_frames
    tracked = described if frames_present >= 2 else dominant

    times, centroids, fills, sizes = [], [], [], []
    for t in range(n_frames):
        blob = _largest_blob(label[t] == tracked)
        if blob is None or blob.sum() < min_object_px:
            continue
        ys, xs = np.nonzero(blob)
        height, width = np.ptp(ys) + 1, np.ptp(xs) + 1
        times.append(t)
        centroids.append((xs.mean(), ys.mean()))
        fills.append(blob.sum() / (height * width))
        sizes.append(max(height, width))

    details: dict[str, Any] = {
        "background_rgb": tuple(float(v) for v in background),
        "dominant_colour": _PALETTE_NAMES[dominant],
        "tracked_colour": _PALETTE_NAMES[tracked],
        "pixels_per_colour": dict(zip(_PALETTE_NAMES, counts.sum(0).tolist(), strict=True)),
        "frames_with_object": len(times),
    }
    direction_ok = shape_ok = False
    if len(times) >= 2:
        xy = np.asarray(centroids)
        slope = np.polyfit(np.asarray(times, dtype=float), xy, 1)[0]
        displacement = slope * (n_frames - 1)
        ux, uy = DIRECTIONS[caption.direction]
        along = float(displacement[0] * ux + displacement[1] * uy)
        across = float(abs(displacement[0] * uy - displacement[1] * ux))
        expected = step_px * (n_frames - 1)
        direction_ok = along >= 0.5 * expected and along > across
        details |= {"displacement_px": tuple(displacement.tolist()), "expected_px": expected}
    if times:
        fill = float(np.median(fills))
        object_px = int(np.median(sizes))
        guess, protos = _nearest_shape(fill, object_px)
        shape_ok = guess == caption.shape and object_px >= 3
        details |= {"fill_ratio": fill, "object_px": object_px, "shape_guess": guess}
        details["fill_prototypes"] = protos
    return AdherenceResult(bool(colour_ok), bool(direction_ok), bool(shape_ok), details)


def score(results: Iterable[AdherenceResult]) -> dict[str, float]:
    """Pass rates in ``[0, 1]`` per criterion and for all three at once, plus the count."""
    results = list(results)
    if not results:
        raise ConfigError("score() needs at least one AdherenceResult")
    n = len(results)
    return {
        "colour_rate": sum(r.colour_ok for r in results) / n,
        "direction_rate": sum(r.direction_ok for r in results) / n,
        "shape_rate": sum(r.shape_ok for r in results) / n,
        "overall_rate": sum(r.all_ok for r in results) / n,
        "n_videos": float(n),
    }
