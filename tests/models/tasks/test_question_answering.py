"""genwatt's extractive question-answering pipeline (transformers v5 has none).

Span choice is checked on hand-made logits; windows on a context longer than one
window; the answer's characters against the context; batching against one query at a
time; and a real BERT tokenizer (type ids, as ``--weights pretrained`` loads) against
the model's inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import transformers

from genwatt.errors import ConfigError
from genwatt.models.tasks.build import build_task_model, build_task_pipeline
from genwatt.models.tasks.pipelines.question_answering import (
    ExtractiveQuestionAnsweringPipeline,
    best_spans,
)
from genwatt.models.tasks.registry import get_task_model
from genwatt.models.tasks.text_tokenizer import scheme_vocab

QUESTION = "where does the cat sit ?"
CONTEXT = "a man walks in the garden . the red cat sits on the green table near the old house ."
LONG_CONTEXT = " ".join([CONTEXT] * 30)  # about 570 tokens: two windows of 384
QA_MODELS = ["distilbert-squad", "bert-large-squad2", "deberta-v3-squad2"]


@pytest.fixture(scope="module")
def pipe() -> ExtractiveQuestionAnsweringPipeline:
    return build_task_pipeline(get_task_model("bert-large-squad2"), "question-answering", "tiny")


def _window(start: list[float], end: list[float], context: list[bool]) -> dict[str, Any]:
    """One window's forward output as postprocess receives it, over the tokens of
    ``"x y z w"`` (offsets two characters apart)."""
    n = len(start)
    return {
        "start_logits": torch.tensor([start]),
        "end_logits": torch.tensor([end]),
        "context_mask": torch.tensor([context]),
        "attention_mask": torch.ones(1, n, dtype=torch.long),
        "offsets": [(2 * i, 2 * i + 1) for i in range(n)],
        "context": "x y z w",
    }


def test_best_span_is_the_likeliest_start_and_end_within_the_context() -> None:
    start = np.array([9.0, 0.0, 5.0, 0.0, 0.0])
    end = np.array([9.0, 0.0, 0.0, 5.0, 0.0])
    allowed = np.array([False, True, True, True, True])
    (first, last, score), *_ = best_spans(start, end, allowed, top_k=3, max_answer_len=15)
    assert (first, last) == (2, 3)  # token 0 scores highest but is not in the context
    assert 0 < score <= 1


def test_no_span_ends_before_it_starts_or_runs_past_max_answer_len() -> None:
    start = np.array([0.0, 0.0, 0.0, 9.0])
    end = np.array([9.0, 0.0, 0.0, 0.0])
    allowed = np.ones(4, dtype=bool)
    spans = best_spans(start, end, allowed, top_k=16, max_answer_len=2)
    assert spans
    assert all(first <= last < first + 2 for first, last, _ in spans)
    assert [s[2] for s in spans] == sorted((s[2] for s in spans), reverse=True)


def test_postprocess_maps_the_span_to_characters_and_can_answer_nothing(
    pipe: ExtractiveQuestionAnsweringPipeline,
) -> None:
    window = _window([0, 0, 8, 0], [0, 0, 0, 8], [False, False, True, True])
    answer = pipe.postprocess([window])
    assert (answer["start"], answer["end"], answer["answer"]) == (4, 7, "z w")
    assert 0 < answer["score"] <= 1
    silent = _window([20, 0, 1, 0], [20, 0, 0, 1], [False, False, True, True])
    assert pipe.postprocess([silent], handle_impossible_answer=True)["answer"] == ""
    assert pipe.postprocess([silent])["answer"] == "z w"


@pytest.mark.parametrize("name", QA_MODELS)
def test_tiny_model_answers_with_a_span_of_the_context(name: str) -> None:
    qa = build_task_pipeline(get_task_model(name), "question-answering", "tiny")
    answer = qa({"question": QUESTION, "context": CONTEXT})
    assert set(answer) == {"score", "start", "end", "answer"}
    assert answer["answer"] == CONTEXT[answer["start"] : answer["end"]]
    assert answer["end"] > answer["start"]
    top = qa({"question": QUESTION, "context": CONTEXT}, top_k=3)
    assert len(top) == 3
    assert top[0] == answer


def test_a_long_context_is_read_in_overlapping_windows(
    pipe: ExtractiveQuestionAnsweringPipeline,
) -> None:
    windows = list(pipe.preprocess({"question": QUESTION, "context": LONG_CONTEXT}))
    assert len(windows) >= 2
    assert [w["is_last"] for w in windows] == [False] * (len(windows) - 1) + [True]
    spans = [
        [o for o, inside in zip(w["offsets"], w["context_mask"][0], strict=True) if inside]
        for w in windows
    ]
    assert all(w["input_ids"].shape[1] <= 384 for w in windows)
    assert spans[1][0][0] < spans[0][-1][1]  # the stride overlaps the windows
    covered = {start for span in spans for start, _ in span}
    words = {
        i for i, ch in enumerate(LONG_CONTEXT) if ch != " " and LONG_CONTEXT[i - 1 : i] in ("", " ")
    }
    assert covered == words  # every word of the context is in some window


def test_batches_answer_as_single_queries_do(pipe: ExtractiveQuestionAnsweringPipeline) -> None:
    queries = [
        {"question": QUESTION, "context": CONTEXT},
        {"question": "who walks ?", "context": LONG_CONTEXT},
        {"question": "what is red ?", "context": "the cat is red ."},
    ]
    singles = [pipe(q) for q in queries]
    for batch_size in (2, 3):
        batched = pipe(queries, batch_size=batch_size)
        for got, want in zip(batched, singles, strict=True):
            assert (got["start"], got["end"], got["answer"]) == (
                want["start"],
                want["end"],
                want["answer"],
            )
            assert got["score"] == pytest.approx(want["score"], rel=1e-4)


def test_a_real_bert_tokenizer_sends_type_ids_to_the_model() -> None:
    """``--weights pretrained`` loads BERT's own tokenizer, which adds token type ids;
    the pipeline hands the model every input the tokenizer names."""
    spec = get_task_model("bert-large-squad2")
    assert spec.tokenizer is not None
    tokenizer = transformers.BertTokenizer(vocab=scheme_vocab(spec.tokenizer.compact()))
    model = build_task_model(spec, "tiny")
    qa = ExtractiveQuestionAnsweringPipeline(model=model, tokenizer=tokenizer, device="cpu")
    seen: list[dict[str, Any]] = []
    handle = model.register_forward_pre_hook(lambda _, a, kw: seen.append(kw), with_kwargs=True)
    try:
        answer = qa({"question": QUESTION, "context": CONTEXT})
    finally:
        handle.remove()
    assert answer["answer"] == CONTEXT[answer["start"] : answer["end"]]
    (inputs,) = seen
    types = inputs["token_type_ids"][0].tolist()
    assert types[0] == 0 and types[-1] == 1  # question segment 0, context segment 1


@pytest.mark.parametrize(
    "query",
    ["a question alone", {"question": "who ?"}, {"question": " ", "context": "x"}],
    ids=["str", "no-context", "blank-question"],
)
def test_a_query_of_the_wrong_shape_says_what_a_query_is(
    pipe: ExtractiveQuestionAnsweringPipeline, query: Any
) -> None:
    with pytest.raises(ConfigError, match="'question': str, 'context': str"):
        pipe(query)


def test_a_question_too_long_for_a_window_is_refused_in_words(
    pipe: ExtractiveQuestionAnsweringPipeline,
) -> None:
    with pytest.raises(ConfigError, match="leaves no room for the context"):
        pipe({"question": "where does the cat sit " * 80, "context": CONTEXT})


def test_settings_are_checked(pipe: ExtractiveQuestionAnsweringPipeline) -> None:
    with pytest.raises(ConfigError, match="top_k must be at least 1"):
        pipe({"question": QUESTION, "context": CONTEXT}, top_k=0)
    with pytest.raises(ConfigError, match="takes max_seq_len"):
        pipe({"question": QUESTION, "context": CONTEXT}, pooling="cls")
