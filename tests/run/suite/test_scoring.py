"""Quality only where it means something: trained weights on labelled queries."""

from __future__ import annotations

from genwatt.models.tasks.protocols import get_protocol
from genwatt.run.suite.plan import plan_suite
from genwatt.run.suite.query import Query
from genwatt.run.suite.scoring import quality_of


def _config(task: str, model: str, weights: str = "pretrained"):  # type: ignore[no-untyped-def]
    (config,) = plan_suite(
        get_protocol("genwatt"), tasks=[task], models=[model], weights=weights, queries=4
    )
    return config


SST2 = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"


def test_accuracy_and_correct_answers_of_a_classifier() -> None:
    outputs = [
        [{"label": "POSITIVE", "score": 0.9}],
        [{"label": "NEGATIVE", "score": 0.8}],
        [{"label": "POSITIVE", "score": 0.7}],
        [{"label": "NEGATIVE", "score": 0.6}],
    ]
    queries = [Query(text="x", label=label) for label in ("POSITIVE", "NEGATIVE", "NEGATIVE", None)]
    quality = quality_of(_config("text-classification", SST2), outputs, queries)
    assert quality["metric"] == "accuracy"
    assert quality["n"] == 3  # the unlabelled query is not scored
    assert quality["correct"] == 2
    assert quality["value"] == 2 / 3


def test_a_multi_purpose_model_is_scored_on_the_label_its_text_names() -> None:
    outputs = [{"generated_text": "positive"}, {"generated_text": "negative review"}]
    queries = [Query(text="x", label="POSITIVE"), Query(text="y", label="POSITIVE")]
    quality = quality_of(_config("text-classification", "google/flan-t5-base"), outputs, queries)
    assert (quality["correct"], quality["n"]) == (1, 2)


def test_random_and_tiny_weights_get_a_reason_not_a_figure() -> None:
    queries = [Query(text="x", label="POSITIVE")]
    outputs = [[{"label": "POSITIVE", "score": 0.9}]]
    for weights in ("random", "tiny"):
        quality = quality_of(_config("text-classification", SST2, weights), outputs, queries)
        assert set(quality) == {"reason"} and "pretrained" in quality["reason"]


def test_unlabelled_queries_get_a_reason() -> None:
    quality = quality_of(
        _config("text-classification", SST2), [[{"label": "POSITIVE"}]], [Query(text="x")]
    )
    assert "reference answers" in quality["reason"]


def test_tasks_without_a_metric_say_so() -> None:
    quality = quality_of(
        _config("text-generation", "openai-community/gpt2"), [], [Query(text="x", label="y")]
    )
    assert "no quality" in quality["reason"]
