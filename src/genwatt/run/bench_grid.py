"""The default sweep of ``genwatt bench``: its grid, its repeats and its sweep id.

``bench_spec`` builds the default sweep for a model: for the built-in tiny WAN model a
grid that runs in well under a minute on two CPU cores; for a real model, points around
its authors' defaults (a quarter, half and all of its frames, each a count its
pipeline accepts as it is, its resolution and a smaller one, half and all of its
steps), which takes minutes per point on a GPU. Running the sweep and summarising it
is ``genwatt.run.sweep_report``'s job, shared with ``genwatt sweep``.
"""

from __future__ import annotations

import time
from typing import Any

from genwatt.models import get_model
from genwatt.models.spec import FrameRule
from genwatt.run.sweep_spec import Grid, SweepSpec

DEFAULT_BENCH_MODEL = "wan-tiny"
# The tiny grid: 3 frame counts x 4 sizes x 2 step counts = 24 configurations. On a
# CPU a new tensor shape pays one-off costs (kernel selection, allocations) on its first
# call, and a shared machine adds noise: one warm-up and three repeats per configuration
# keep the fitted exponents' intervals narrow while the sweep stays under a minute.
TINY_GRID = Grid(num_frames=[5, 9, 17], height=[32, 64], width=[32, 64], steps=[2, 4])
TINY_DEFAULTS = {"warmup": 1, "repeats": 3}
REAL_DEFAULTS = {"warmup": 1, "repeats": 1}


def default_grid(model_name: str) -> Grid:
    model = get_model(model_name)
    if model.is_tiny and model.family == "wan":
        return TINY_GRID
    d = model.defaults
    grid: dict[str, list[int]] = {}
    if model.task == "text":
        tokens_in, tokens_out = d.max_text_tokens, d.max_new_tokens or 16
        if model.is_tiny:
            return Grid(max_text_tokens=[16, 32, 64], max_new_tokens=[8, 16, 32])
        return Grid(
            max_text_tokens=sorted({max(8, tokens_in // 4), tokens_in}),
            max_new_tokens=sorted({max(8, tokens_out // 4), tokens_out}),
        )
    if d.num_frames:
        grid["num_frames"] = _frame_levels(d.num_frames, model.frame_rule)
    if d.height and d.width:
        multiple = model.size_rule.multiple_px if model.size_rule else 16
        grid["height"] = sorted({_round_to(d.height // 2, multiple), d.height})
        grid["width"] = sorted({_round_to(d.width // 2, multiple), d.width})
    if d.steps:
        grid["steps"] = sorted({max(1, d.steps // 2), d.steps})
    return Grid(**grid)


def _frame_levels(most: int, rule: FrameRule | None) -> list[int]:
    """A quarter, half and all of ``most`` frames, each moved to the nearest count the
    pipeline makes exactly as asked (4k+1 for WAN's 4x temporal compression), so the
    default grid never triggers its own "rounds it to" warning."""
    targets = {max(2, most // 4), max(2, most // 2), most}
    accepted = _accepted_frames(most, rule)
    if not accepted:
        return sorted(targets)
    return sorted({min(accepted, key=lambda n: (abs(n - t), n)) for t in targets})


def _accepted_frames(most: int, rule: FrameRule | None) -> list[int]:
    """Frame counts from 2 to ``most`` that the rule produces from some latent length:
    requested as they are, they run as they are."""
    if rule is None:
        return list(range(2, most + 1))
    cap = min(most, rule.max_frames or most)
    produced = {rule.frames_from_latent(latent) for latent in range(1, most + 1)}
    return sorted(n for n in produced if 2 <= n <= cap)


def _round_to(value: int, multiple: int) -> int:
    return max(multiple, round(value / multiple) * multiple)


def bench_spec(model: str = DEFAULT_BENCH_MODEL, **overrides: Any) -> SweepSpec:
    """The default benchmark sweep for ``model``; keyword arguments override spec fields."""
    grid_axes = {k: overrides.pop(k) for k in list(overrides) if k in Grid.model_fields}
    grid = default_grid(model).model_dump()
    grid.update({k: v for k, v in grid_axes.items() if v is not None})
    defaults = TINY_DEFAULTS if get_model(model).is_tiny else REAL_DEFAULTS
    fields = {**defaults, **{k: v for k, v in overrides.items() if v is not None}}
    if get_model(model).task != "text":
        fields.setdefault("guidance", 5.0)
    return SweepSpec(model=model, grid=Grid(**grid), **fields)


def new_bench_sweep_id(model: str) -> str:
    """Each ``genwatt bench`` is a fresh measurement: its own sweep id."""
    return f"bench-{model}-{time.strftime('%Y%m%d-%H%M%S')}"
