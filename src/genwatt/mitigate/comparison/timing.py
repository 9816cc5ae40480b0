"""How ``compare`` times a generation: apart from the FLOP counter, unless told otherwise.

Why a second run: ``count_denoising`` is a ``TorchDispatchMode`` that runs Python code for
every op the denoiser executes and, on CPU, forces the math attention backend (the fused
kernel has no FLOP formula). On a small model that costs more than the work itself (a
counted generation of the reference model takes about 2.5 times as long on CPU), and
unevenly: it grows with the number of ops a strategy runs, not with their size. A meter
window around the counted run would time the counter as much as the strategy. So with
``timing="separate"`` (the default) each case runs twice: once counted, for the FLOPs,
the transformer calls and the output judged for quality; then again with no counter
inside the meter window that supplies seconds and joules, which is what a user would pay.
The counted run also warms the timed one up, so no timed window pays first-call costs.
The baseline is timed the same way, so the ratios compare like with like.

A second run is the same generation only if the strategy carries no state from one
generation to the next (``Strategy.repeatable``). Step caches qualify: diffusers resets its
stateful hooks at the end of every pipeline call (``maybe_free_model_hooks``), and
genwatt's adaptive cache also starts afresh at step 0. Reuse caches do not (the second run
would hit the entry the first just stored), so they keep their one counted run, labelled
``COUNTED_RUN``, and their ratios divide the baseline's counted runs, which are
metered for that purpose alone: like with like again. As a guard, the timed output must
match the counted one to ``SAME_OUTPUT_ATOL``; a mismatch is recorded with the case,
never accepted silently. On CPU a tiny difference is expected: the counted run uses math
attention, the timed run the fused kernel.

``timing="instrumented"`` runs each case once, counted and timed together: half the run
time, for large models where the counter's share is small, at the price of that share.
The mode keeps the name the command line gives it (``--timing instrumented``); the run
it times is the counted run, labelled ``COUNTED_RUN`` like a reuse cache's, and has
nothing to do with ``genwatt.run.instrument``'s instrumented pipelines. The labels live
in ``conventions``, where the report reads them too.
"""

from __future__ import annotations

import math
from typing import Literal, cast

import numpy as np

from genwatt.errors import ConfigError

Timing = Literal["separate", "instrumented"]
TIMINGS: tuple[Timing, ...] = ("separate", "instrumented")

#: Largest difference between the timed and the counted output taken as float noise:
#: one 8-bit level of an output in [0, 1], so two outputs within it write the same video
#: to within rounding. Why not tighter: on CPU, math against fused attention moves the
#: reference model's outputs (30 steps, 12 cases, 9 strategies) by 5e-6 at the median and
#: up to 6e-4 (PAB), so 1e-4 would flag strategies that are repeatable. The guard is
#: for a strategy that does other work the second time, not for rounding.
SAME_OUTPUT_ATOL = 1 / 255


def validated_timing(value: str) -> Timing:
    """``value`` if it names a timing mode; a ``ConfigError`` saying the choices otherwise."""
    if value not in TIMINGS:
        raise ConfigError(f"timing must be one of {', '.join(TIMINGS)}; got {value!r}")
    return cast(Timing, value)


def max_abs_diff(counted: np.ndarray, timed: np.ndarray) -> float:
    """Largest elementwise difference of two outputs; ``inf`` if shapes or NaNs disagree."""
    a = np.asarray(counted, dtype=np.float64)
    b = np.asarray(timed, dtype=np.float64)
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return math.inf
    diff = np.abs(a - b)
    diff = diff[~np.isnan(diff)]  # NaN at the same places in both: no difference there
    return float(diff.max()) if diff.size else 0.0
