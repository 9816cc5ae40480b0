"""How big a ``genwatt mitigate`` comparison is, and how long it will take on this machine.

Why: the full comparison (every default strategy on six prompts) takes minutes on a
laptop CPU, and a command that sits silent that long reads as hung. So the default is a
quick set (``QUICK_PROMPTS`` prompts, ``quick_strategies``) and ``--full`` runs the
full one (``FULL_PROMPTS``, ``FULL_STRATEGIES``); either way the user is told up front
how long it should take, from one warm-up clip timed on this machine
(``estimate_run``) rather than from a guess.

The estimate charges every strategy the unmitigated clip's time: strategies do less
work, but their hooks add overhead, and a few caches first run calibration clips, so it
is an order of magnitude to plan by, not a measurement.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from genwatt.errors import ConfigError
from genwatt.mitigate.comparison.quiet import quiet_diffusers
from genwatt.mitigate.comparison.timing import validated_timing
from genwatt.mitigate.strategy import Strategy

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

    from genwatt.mitigate.comparison.compare import Case

#: Prompts of the quick default and of ``--full``.
QUICK_PROMPTS = 3
FULL_PROMPTS = 6
#: What ``--full`` runs: every default strategy (``genwatt.mitigate.catalog``).
FULL_STRATEGIES = "all"


def quick_strategies(call: Mapping[str, Any]) -> str:
    """The quick default's ``--strategies``: one plain cheaper setting, two caches.

    Half the steps (the plain trade-off every cache must beat), no guidance when the call
    uses guidance, diffusers' MagCache and genwatt's own 3x cache. Reuse is left to
    ``--full`` and ``--strategies reuse``: it saves nothing on prompts that never repeat.
    """
    names = ["fewer-steps", "magcache", "genwatt-adaptive-3x"]
    if float(call.get("guidance_scale") or 1.0) > 1.0:
        names.insert(1, "no-guidance")
    return ",".join(names)


def planned_runs(strategies: Sequence[Strategy], n_cases: int, timing: str) -> tuple[int, int]:
    """Clips ``compare`` generates: (under the FLOP counter, timed apart from it).

    Every case runs once counted for the baseline and each strategy; with ``separate``
    timing, the baseline and every repeatable strategy run each case once more.
    """
    counted = n_cases * (1 + len(strategies))
    if validated_timing(timing) != "separate":
        return counted, 0
    return counted, n_cases * (1 + sum(1 for s in strategies if s.repeatable))


@dataclass(frozen=True)
class RunEstimate:
    """A comparison's size, and one warm-up clip's cost on this machine."""

    counted_clips: int
    timed_clips: int
    calls_per_clip: int  # denoiser calls of one unmitigated clip
    counted_clip_s: float  # one unmitigated clip under the FLOP counter
    timed_clip_s: float  # the same clip without it

    @property
    def clips(self) -> int:
        return self.counted_clips + self.timed_clips

    @property
    def duration_s(self) -> float:
        return self.counted_clips * self.counted_clip_s + self.timed_clips * self.timed_clip_s

    def describe(self) -> str:
        """One line for the user, e.g. "about 2 min on this machine: 60 clips of ..."."""
        return (
            f"about {_about(self.duration_s)} on this machine: {self.clips} clips of up to "
            f"{self.calls_per_clip} denoiser calls, at a warm-up clip's "
            f"{self.counted_clip_s:.1f} s with the FLOP counter, {self.timed_clip_s:.1f} s without"
        )


def _about(seconds: float) -> str:
    if seconds < 60:
        return f"{max(5, 5 * math.ceil(seconds / 5))} s"
    return f"{int(seconds / 60 + 0.5)} min"  # half up: 7.5 min reads "8 min"


def estimate_run(
    pipe: DiffusionPipeline,
    strategies: Sequence[Strategy],
    cases: Sequence[Case],
    *,
    call: Mapping[str, Any],
    timing: str = "separate",
) -> RunEstimate:
    """Time one unmitigated clip of the first case, counted and plain; scale to the plan.

    The warm-up also takes the first-call costs (allocations, lazy imports) out of the
    comparison's own first case.
    """
    from genwatt.mitigate.comparison.work import count_denoising

    if not cases:
        raise ConfigError("estimate_run() needs at least one (prompt, seed) case")
    counted, timed = planned_runs(strategies, len(cases), timing)
    case, plain = cases[0], Strategy()
    with quiet_diffusers():
        started = time.perf_counter()
        with count_denoising(pipe) as work:
            plain.generate(pipe, case.prompt, seed=case.seed, call=call)
        counted_s = time.perf_counter() - started
        started = time.perf_counter()
        plain.generate(pipe, case.prompt, seed=case.seed, call=call)
        timed_s = time.perf_counter() - started
    return RunEstimate(counted, timed, work.calls, counted_s, timed_s)
