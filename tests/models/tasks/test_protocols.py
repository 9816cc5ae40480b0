"""Each protocol's fixed settings, and what it refuses."""

from __future__ import annotations

import pytest

from genwatt.errors import ConfigError
from genwatt.models.tasks.protocols import (
    PROTOCOLS,
    check_batch_sizes,
    get_protocol,
    protocol_dtype,
)


def test_ai_energy_score_settings() -> None:
    p = get_protocol("ai-energy-score")
    assert (p.queries, p.warmup, p.batch_sizes, p.basis) == (1000, 10, (1,), "gpu")
    assert protocol_dtype(p, "text-classification", None) == "float32"
    assert protocol_dtype(p, "text-generation", None) == "float16"


def test_power_hungry_processing_counts_the_whole_machine() -> None:
    p = get_protocol("power-hungry-processing")
    assert (p.queries, p.batch_sizes, p.basis) == (1000, (1,), "machine")


def test_genwatt_takes_any_batch_sizes_and_dtype() -> None:
    p = get_protocol("genwatt")
    assert check_batch_sizes(p, (1, 8, 32, 8)) == (1, 8, 32)
    assert protocol_dtype(p, "text-generation", "bfloat16") == "bfloat16"
    assert protocol_dtype(p, "text-generation", None) is None


@pytest.mark.parametrize("name", ["ai-energy-score", "power-hungry-processing"])
def test_anchor_protocols_refuse_other_batch_sizes(name: str) -> None:
    with pytest.raises(ConfigError, match="batch size 1"):
        check_batch_sizes(PROTOCOLS[name], (1, 8))


def test_ai_energy_score_refuses_another_precision() -> None:
    with pytest.raises(ConfigError, match="float32"):
        protocol_dtype(get_protocol("ai-energy-score"), "fill-mask", "bfloat16")


def test_unknown_protocol_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="ai-energy-score"):
        get_protocol("aies")


def test_batch_sizes_must_be_positive() -> None:
    with pytest.raises(ConfigError):
        check_batch_sizes(get_protocol("genwatt"), (0,))


def test_ai_energy_score_generates_greedily_through_the_pipeline() -> None:
    """The suite's AI Energy Score runs pass one beam and no sampling to the pipeline, and
    the pipeline honours it: BART-CNN's decoder runs on one row, not its 4 beams."""
    import torch

    from genwatt.models.tasks.build import build_task_pipeline
    from genwatt.models.tasks.calls import model_generation_kwargs
    from genwatt.models.tasks.protocols import get_protocol
    from genwatt.models.tasks.registry import get_task_model

    assert get_protocol("ai-energy-score").greedy
    assert not get_protocol("power-hungry-processing").greedy
    spec = get_task_model("facebook/bart-large-cnn")
    pipe = build_task_pipeline(spec, "summarization", "tiny", dtype=torch.float32)
    rows: list[int] = []
    hook = pipe.model.get_decoder().register_forward_hook(
        lambda module, args, kwargs, out: rows.append(int(kwargs["input_ids"].shape[0])),
        with_kwargs=True,
    )
    try:
        for greedy in (False, True):
            kwargs = model_generation_kwargs(spec, "summarization", 3, greedy=greedy)
            pipe("a short article about the weather in the hills today", **kwargs)
    finally:
        hook.remove()
    assert rows[0] == 4  # the checkpoint's beams
    assert rows[-1] == 1  # greedy


def test_ai_energy_score_fixes_its_benchmark_s_length_where_the_catalog_differs() -> None:
    """optimum-benchmark generates 100 tokens for the tasks AI Energy Score's configs
    leave at its default (speech recognition, captioning); the rest keep the catalog's."""
    aies = get_protocol("ai-energy-score")
    assert aies.new_tokens_for("automatic-speech-recognition") == 100
    assert aies.new_tokens_for("image-to-text") == 100
    assert aies.new_tokens_for("text-generation") is None
    for name in ("genwatt", "power-hungry-processing"):
        assert get_protocol(name).new_tokens_for("image-to-text") is None


def test_the_suite_plans_the_protocol_s_length_unless_asked_for_another() -> None:
    from genwatt.run.suite.plan import plan_suite

    def tokens(protocol: str, asked: int | None = None, weights: str = "random") -> int | None:
        (config,) = plan_suite(
            get_protocol(protocol),
            tasks=["automatic-speech-recognition"],
            models=["openai/whisper-tiny"],
            new_tokens=asked,
            weights=weights,
        )
        return config.new_tokens

    assert tokens("ai-energy-score") == 100
    assert tokens("genwatt") == 26  # the catalog's
    assert tokens("ai-energy-score", asked=8) == 8
    # The tiny Whisper's decoder holds 64 positions: its form keeps the catalog's length.
    assert tokens("ai-energy-score", weights="tiny") == 26


def test_ai_energy_score_calls_a_distilled_model_s_pipeline_at_its_class_guidance() -> None:
    from genwatt.run.suite.plan import plan_suite

    def config(protocol: str, weights: str = "random"):  # type: ignore[no-untyped-def]
        (one,) = plan_suite(
            get_protocol(protocol),
            tasks=["text-to-image"],
            models=["stabilityai/sdxl-turbo"],
            weights=weights,
        )
        return one

    aies = config("ai-energy-score")
    assert aies.guidance == 5.0 and aies.key.endswith("|g5")
    assert aies.as_config()["guidance"] == 5.0
    own = config("genwatt")
    assert own.guidance is None and "|g" not in own.key  # keys stored before stay valid
