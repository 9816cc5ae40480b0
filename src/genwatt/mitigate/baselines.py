"""The plain ways to spend less: fewer steps, lower resolution, no guidance.

Why they are here: a cache or a reuse scheme is only worth its complexity if it beats
these at the same saving. Each is a ``Strategy`` of kind ``baseline`` that changes only
the pipeline call, so the comparison with caching is like for like.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import ndimage

from genwatt.errors import ConfigError
from genwatt.mitigate.strategy import Kind, Strategy, run_pipeline

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

#: WanPipeline.check_inputs needs heights and widths divisible by 16.
SIZE_MULTIPLE_PX = 16


class FewerSteps(Strategy):
    """Run ``steps`` denoising steps instead of the baseline's."""

    kind: Kind = "baseline"

    def __init__(self, steps: int) -> None:
        if steps < 1:
            raise ConfigError(f"fewer-steps needs at least 1 step; got {steps}")
        self.steps = steps
        self.name = f"fewer-steps-{steps}"
        self.description = f"{steps} denoising steps instead of the baseline's"

    def call_kwargs(self, call: Mapping[str, Any]) -> dict[str, Any]:
        baseline = int(call["num_inference_steps"])
        if self.steps >= baseline:
            raise ConfigError(
                f"{self.name} saves nothing: the baseline runs {baseline} steps; "
                f"pick fewer than {baseline}"
            )
        return {**call, "num_inference_steps": self.steps}


class NoGuidance(Strategy):
    """Guidance scale 1: the pipeline skips the unconditional branch (half the calls)."""

    kind: Kind = "baseline"
    name = "no-guidance"
    description = "guidance scale 1, so no unconditional pass"

    def call_kwargs(self, call: Mapping[str, Any]) -> dict[str, Any]:
        if float(call.get("guidance_scale", 1.0)) <= 1.0:
            raise ConfigError("no-guidance saves nothing: the baseline already runs unguided")
        return {**call, "guidance_scale": 1.0}


class LowerResolution(Strategy):
    """Generate at ``scale`` times the baseline's height and width, then upscale to compare.

    The upscale (bilinear, per frame) exists only so PSNR and SSIM can be computed
    against the baseline; it costs nothing measurable and is not counted.
    """

    kind: Kind = "baseline"

    def __init__(self, scale: float = 0.5) -> None:
        if not 0 < scale < 1:
            raise ConfigError(f"lower-resolution scale must be in (0, 1); got {scale}")
        self.scale = scale
        self.name = f"lower-resolution-{scale:g}x"
        self.description = f"{scale:g}x the baseline's height and width, upscaled to compare"

    def _size(self, px: int) -> int:
        size = round(px * self.scale / SIZE_MULTIPLE_PX) * SIZE_MULTIPLE_PX
        if size < SIZE_MULTIPLE_PX:
            raise ConfigError(
                f"{self.name} of {px} px is below the pipeline's {SIZE_MULTIPLE_PX} px minimum"
            )
        return size

    def call_kwargs(self, call: Mapping[str, Any]) -> dict[str, Any]:
        height, width = self._size(int(call["height"])), self._size(int(call["width"]))
        if (height, width) == (call["height"], call["width"]):
            raise ConfigError(f"{self.name} rounds back to the baseline size; use a smaller scale")
        return {**call, "height": height, "width": width}

    def generate(
        self, pipe: DiffusionPipeline, prompt: str, *, seed: int, call: Mapping[str, Any]
    ) -> np.ndarray:
        small = run_pipeline(pipe, prompt, seed=seed, call=self.call_kwargs(call))
        zoom = (1.0, call["height"] / small.shape[1], call["width"] / small.shape[2], 1.0)
        return np.clip(ndimage.zoom(small, zoom, order=1, mode="nearest", grid_mode=True), 0.0, 1.0)


def default_baselines(call: Mapping[str, Any]) -> list[Strategy]:
    """Half the steps, a third of the steps, half the resolution, and no guidance."""
    steps = int(call["num_inference_steps"])
    out: list[Strategy] = [FewerSteps(max(1, steps // 2)), FewerSteps(max(1, steps // 3))]
    out.append(LowerResolution(0.5))
    if float(call.get("guidance_scale", 1.0)) > 1.0:
        out.append(NoGuidance())
    return out
