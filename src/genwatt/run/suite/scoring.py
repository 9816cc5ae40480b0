"""Quality of a measured configuration, where it means something: the answers of
pretrained weights on queries that carry reference answers.

Random and tiny weights answer noise, and the built-in queries carry no labels, so
both give no quality (with the reason stored, not a made-up figure). Energy per correct
answer is the measured energy over the number of correct answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genwatt.run.suite.plan import SuiteConfig
from genwatt.run.suite.query import Query


def quality_of(
    config: SuiteConfig, outputs: Sequence[Any], queries: Sequence[Query]
) -> dict[str, Any]:
    """``{"metric", "value", "n", "correct", "higher_is_better"}``, or ``{"reason"}``
    saying why no quality was measured."""
    metric = config.task.quality
    if metric == "none":
        return {"reason": f"genwatt scores no quality for {config.task.name}"}
    if config.weights != "pretrained":
        return {
            "reason": f"{config.weights} weights answer noise; quality needs --weights pretrained"
        }
    labelled = [(o, q.label) for o, q in zip(outputs, queries, strict=False) if q.label is not None]
    if not labelled:
        return {"reason": "the queries carry no reference answers (use --data with labels)"}
    from genwatt.run.suite import quality

    predictions = [quality.prediction_of(config.task.name, o) for o, _ in labelled]
    references = [label for _, label in labelled]
    # A multi-purpose model names the label in words: the data's label names tell which
    # word of its answer counts.
    labels = sorted({str(r) for r in references}) if metric == "accuracy" else None
    result = quality.score(metric, predictions, references, labels)
    return {
        "metric": result.metric,
        "value": result.value,
        "n": result.n,
        "correct": result.correct,
        "higher_is_better": result.higher_is_better,
    }
