"""How a benchmark drives a model, and the host time that changes per query.

The task model's host times (``genwatt.predict.task_model``) are fitted on Power Hungry
Processing, which ran transformers pipelines: each query is tokenised (or decoded and
resized), run and post-processed in turn. AI Energy Score runs optimum-benchmark's
``energy_star`` scenario instead (optimum-benchmark 0.6.0,
``scenarios/energy_star/scenario.py`` and ``preprocessors/dataset_preprocessor.py``):

- the whole dataset is preprocessed first, in one batched ``datasets.Dataset.map`` that
  writes the tokens or processed pixels to Arrow, as a tracked phase of its own, before
  the model is loaded (the GPU at rest);
- then, per query, one row of the torch-formatted dataset is sliced out, its tensors moved
  to the GPU and ``model.forward`` (or ``generate``) called directly: no pipeline, no
  post-processing.

So a prediction for AI Energy Score keeps the pipeline prediction and changes it by what
the harness does differently on the host: the per-query host time differs by
``loop_delta_s`` (energy_star's slice, move and call less the pipeline's pre- and
post-processing; the GPU waits at its working floor), and ``preprocess_s`` is added at
the GPU's rest power. Both are measured, not fitted: ``benchmarks/harness_overhead.py``
times the two harnesses on one CPU with the same processors and tokenizers and ships
its result as ``calibrations/tasks/energy_star_harness.json``. Working from the
difference keeps the prediction independent of how the fit split a pipeline query
between kernel launches and host work.

Text tasks take their own measured costs, or text classification's where the benchmark
did not measure them. Image costs (image captioning's too) grow with the processed image
(Arrow holds float32 pixels, written once and read back per query): a line through the
measured image tasks in processed pixels. Audio is not measured; its costs are taken as
a pipeline's (zero change), and the prediction says so.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from genwatt.models.tasks.catalog import get_task

HARNESS_DATA = (
    Path(__file__).resolve().parent / "calibrations" / "tasks" / "energy_star_harness.json"
)

PIPELINE = "pipeline"
ENERGY_STAR = "energy-star"
HARNESSES = (PIPELINE, ENERGY_STAR)
FALLBACK_TEXT_TASK = "text-classification"


@dataclass(frozen=True)
class HarnessCost:
    """What a harness changes per query against a pipeline, in seconds.

    ``loop_delta_s`` is added to the pipeline's per-query host time (negative where the
    harness does less), the GPU waiting at its working floor; ``preprocess_s`` is spent
    before the model is loaded, the GPU at rest. ``source`` says where the figures are
    from, for the prediction's notes.
    """

    loop_delta_s: float
    preprocess_s: float
    source: str


@cache
def measured_harness() -> dict[str, Any]:
    """The shipped measurement (``benchmarks/harness_overhead.py --write``)."""
    return json.loads(HARNESS_DATA.read_text())


def _line(points: list[tuple[float, float]], x: float) -> float:
    """The least-squares line through ``points`` at ``x``; their mean where they share
    one abscissa (a single point included)."""
    xs, ys = zip(*points, strict=True)
    if len(set(xs)) < 2:
        return statistics.fmean(ys)
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept + slope * x


def energy_star_cost(task: str, processed_pixels: float = 0.0) -> HarnessCost:
    """The per-query change of AI Energy Score's harness against a pipeline for ``task``;
    ``processed_pixels`` is the model's input image (height x width) for image tasks."""
    data = measured_harness()
    cases = {c["task"]: c for c in data["cases"]}
    where = f"measured by benchmarks/harness_overhead.py on {data['cpu']}"
    kind = get_task(task).inputs
    if kind == "image":  # classification, detection and captioning alike
        images = [c for c in data["cases"] if c["processed_pixels"] > 0]
        delta = _line(
            [(c["processed_pixels"], c["loop_host_s"] - c["pipeline_host_s"]) for c in images],
            processed_pixels,
        )
        preprocess = _line(
            [(c["processed_pixels"], c["preprocess_s"]) for c in images], processed_pixels
        )
        return HarnessCost(
            delta,
            max(0.0, preprocess),
            f"image tasks' line in processed pixels through {len(images)} tasks {where}",
        )
    if kind == "audio":
        return HarnessCost(
            0.0, 0.0, "not measured for audio: a pipeline's host time is used as it is"
        )
    case = cases.get(task) or cases[FALLBACK_TEXT_TASK]
    return HarnessCost(
        case["loop_host_s"] - case["pipeline_host_s"],
        max(0.0, case["preprocess_s"]),
        f"{case['task']}'s {where}",
    )
