"""What every mitigation strategy is: a named way to generate the same clip with less work.

Why one small interface: ``genwatt mitigate`` runs each strategy on the same prompts and
seeds as the unmitigated baseline and must treat step caches (diffusers hooks, our own
adaptive cache), reuse caches and plain baselines (fewer steps, lower resolution, no
guidance) alike. A strategy therefore only says how to *set itself up* on a pipeline
(``applied``), how it changes the call (``call_kwargs``) and how it produces a video
(``generate``). Counting the FLOPs it actually executes, timing and metering it is the
runner's job, done the same way for all of them; a strategy only says whether running a
case again repeats it (``repeatable``), which decides how it can be timed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

Kind = Literal["cache", "reuse", "baseline"]
KINDS: tuple[Kind, ...] = ("cache", "reuse", "baseline")


class Strategy:
    """The unmitigated baseline; subclasses override what they change.

    ``name`` is unique within a comparison (it becomes the JSON ``name``); ``kind`` is
    ``cache`` (skips work inside the denoiser), ``reuse`` (skips generations or steps by
    reusing earlier outputs) or ``baseline`` (a cheaper plain configuration).
    """

    name: str = "baseline"
    kind: Kind = "baseline"
    description: str = "the unmitigated pipeline"
    #: Whether a second ``generate`` of the same case repeats the first one's work and
    #: output. The runner times a strategy in a run of its own, apart from the FLOP
    #: counter (``genwatt.mitigate.comparison.timing``), only when this holds. False for a strategy
    #: whose state carries over between generations (a reuse cache would hit the entry
    #: the first run stored); such a strategy is timed in its one counted run.
    repeatable: bool = True

    @contextmanager
    def applied(
        self, pipe: DiffusionPipeline, *, call: Mapping[str, Any], calibration: Sequence[str]
    ) -> Iterator[None]:
        """Set the strategy up on ``pipe`` for the duration of the block, then undo it.

        ``call`` is the baseline's call arguments and ``calibration`` a few prompts a
        strategy may run once beforehand (MagCache's ratios); that work is not counted.
        """
        yield

    def call_kwargs(self, call: Mapping[str, Any]) -> dict[str, Any]:
        """The pipeline arguments this strategy uses instead of the baseline's ``call``."""
        return dict(call)

    def generate(
        self, pipe: DiffusionPipeline, prompt: str, *, seed: int, call: Mapping[str, Any]
    ) -> np.ndarray:
        """One clip ``(frames, H, W, 3)`` in ``[0, 1]`` for ``prompt`` and ``seed``."""
        return run_pipeline(pipe, prompt, seed=seed, call=self.call_kwargs(call))


def run_pipeline(
    pipe: DiffusionPipeline, prompt: str, *, seed: int, call: Mapping[str, Any]
) -> np.ndarray:
    """Call ``pipe`` once with a CPU generator seeded by ``seed``; first clip as numpy."""
    import torch

    generator = torch.Generator("cpu").manual_seed(seed)
    out = pipe(prompt, generator=generator, output_type="np", return_dict=False, **call)[0]
    return np.asarray(out[0], dtype=np.float32)
