"""Windows of a transformers pipeline: preprocess, forward or encode/prefill/token, postprocess."""

from __future__ import annotations

import pytest

from genwatt.meter.meter import Meter
from genwatt.meter.phases import (
    DECODE,
    ENCODE,
    FORWARD,
    POSTPROCESS,
    PREFILL,
    PREPROCESS,
    breakdown,
)
from genwatt.models.tasks import get_task_model
from genwatt.models.tasks.build import build_task_pipeline
from genwatt.models.tasks.calls import model_generation_kwargs
from genwatt.run.suite.task_instrument import GENERATE, InstrumentedTaskPipeline, module_at

TEXTS = ["the film was good", "a long and quiet story", "bad", "the best film of the year"]


def test_a_classifier_has_one_window_per_query_and_phase(cpu_meter: Meter) -> None:
    spec = get_task_model("distilbert/distilbert-base-uncased-finetuned-sst-2-english")
    pipe = build_task_pipeline(spec, "text-classification", "tiny")
    done: list[int] = []
    inst = InstrumentedTaskPipeline(pipe, cpu_meter, on_query=lambda: done.append(1))
    outputs = inst(TEXTS, batch_size=2)
    names = [w.name for w in inst.windows]
    assert names.count(PREPROCESS) == 4 and names.count(POSTPROCESS) == 4
    assert names.count(FORWARD) == 2  # two batches of two
    assert len(outputs) == 4 and len(done) == 4
    parts = breakdown(inst.windows)
    assert set(parts.phases) == {PREPROCESS, FORWARD, POSTPROCESS}
    assert parts.adds_up
    assert cpu_meter.open_windows == []


def test_outside_a_measured_call_the_pipeline_runs_unmetered(cpu_meter: Meter) -> None:
    spec = get_task_model("distilbert/distilbert-base-uncased-finetuned-sst-2-english")
    pipe = build_task_pipeline(spec, "text-classification", "tiny")
    inst = InstrumentedTaskPipeline(pipe, cpu_meter)
    pipe(TEXTS)  # the warm-up path: the wrapped methods pass straight through
    assert inst.windows == []


@pytest.mark.parametrize(
    ("model", "task"),
    [
        ("openai-community/gpt2", "text-generation"),
        ("facebook/bart-large-cnn", "summarization"),
        ("google/flan-t5-base", "text-classification"),
    ],
)
def test_generation_has_prefill_then_one_window_per_token(
    cpu_meter: Meter, model: str, task: str
) -> None:
    spec = get_task_model(model)
    pipe = build_task_pipeline(spec, task, "tiny")
    inst = InstrumentedTaskPipeline(pipe, cpu_meter, encoder=spec.encoder, decoder=spec.decoder)
    prompts = [spec.prompt_for(task, text=t) or t for t in TEXTS[:2]]
    inst(prompts, batch_size=1, **model_generation_kwargs(spec, task, 5))
    parts = breakdown(inst.windows)
    names = [w.name for w in inst.windows]
    assert names.count(GENERATE) == 2 and FORWARD not in names
    assert names.count(PREFILL) == 2
    # two queries, five tokens each: prefill, then token:1..4
    assert sorted(w.name for w in parts.steps) == sorted([f"token:{i}" for i in range(1, 5)] * 2)
    assert DECODE in parts.phases and PREFILL in parts.phases
    assert (ENCODE in parts.phases) == (spec.encoder is not None)
    assert parts.adds_up
    assert cpu_meter.open_windows == []


def test_module_at_follows_dotted_paths() -> None:
    class Leaf:
        pass

    class Root:
        child = type("Child", (), {"leaf": Leaf})()

    assert module_at(Root, "") is Root
    assert module_at(Root, "child.leaf") is Leaf
