"""genwatt's text-to-text pipeline (transformers v5 has none): how it is called, what it
returns, how it batches and truncates, on the tiny T5 and BART of the registry.

A batch whose padding leaks into the encoder gives other answers than the same queries
one by one; a pipeline that ignores ``generate_kwargs`` generates the model's default
length instead of the suite's; a missing truncation overflows BART's 1,024 positions.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
import torch
from transformers import Pipeline

from genwatt.models.tasks.build import build_task_pipeline
from genwatt.models.tasks.calls import generation_kwargs, model_generation_kwargs
from genwatt.models.tasks.multi_purpose import BLOOMZ_560M, T5_SMALL
from genwatt.models.tasks.pipelines.text2text import Text2TextGenerationPipeline
from genwatt.models.tasks.text_generators import BART_LARGE_CNN

TEXT = "the red cat sits on the green table near the old house"
SHORT = "a dog runs"
NEW_TOKENS = 7


@cache
def _pipe(name: str) -> Pipeline:
    spec = {"t5": T5_SMALL, "bart": BART_LARGE_CNN}[name]
    return build_task_pipeline(spec, "summarization", "tiny", dtype=torch.float32)


def _texts(output: list[dict[str, Any]]) -> list[str]:
    return [answer["generated_text"] for answer in output]


def _generated_lengths(pipe: Pipeline, *args: Any, **kwargs: Any) -> list[int]:
    """The decoder length of every sequence ``generate`` returns during one call."""
    lengths: list[int] = []
    original = pipe.model.generate

    def recording(*a: Any, **k: Any) -> torch.Tensor:
        out = original(*a, **k)
        lengths.extend([out.shape[-1]] * out.shape[0])
        return out

    pipe.model.generate = recording
    try:
        pipe(*args, **kwargs)
    finally:
        del pipe.model.generate
    return lengths


def test_the_pipeline_is_the_specs_and_refuses_decoder_only_models() -> None:
    assert isinstance(_pipe("t5"), Text2TextGenerationPipeline)
    bloom = build_task_pipeline(BLOOMZ_560M, "summarization", "tiny", dtype=torch.float32)
    with pytest.raises(ValueError, match="decoder-only"):
        Text2TextGenerationPipeline(model=bloom.model, tokenizer=bloom.tokenizer)


@pytest.mark.parametrize("name", ["t5", "bart"])
def test_generate_kwargs_fix_the_length_whichever_way_they_come(name: str) -> None:
    pipe = _pipe(name)
    settings = {"max_new_tokens": NEW_TOKENS, "min_new_tokens": NEW_TOKENS}
    # Decoder start token + exactly NEW_TOKENS generated ones.
    assert _generated_lengths(pipe, TEXT, generate_kwargs=settings) == [1 + NEW_TOKENS]
    assert _generated_lengths(pipe, TEXT, **settings) == [1 + NEW_TOKENS]
    suite = generation_kwargs("summarization", NEW_TOKENS)
    assert "generate_kwargs" in suite
    assert _generated_lengths(pipe, TEXT, **suite) == [1 + NEW_TOKENS]
    with pytest.raises(ValueError, match="once"):
        pipe(TEXT, max_new_tokens=3, generate_kwargs=settings)


def test_the_suite_passes_generate_kwargs_to_every_model_on_this_pipeline() -> None:
    for task in T5_SMALL.tasks:
        assert model_generation_kwargs(T5_SMALL, task, NEW_TOKENS) == {
            "generate_kwargs": {"max_new_tokens": NEW_TOKENS, "min_new_tokens": NEW_TOKENS}
        }


def test_answers_have_the_shape_of_transformers_v4_text2text() -> None:
    pipe = _pipe("t5")
    kwargs = generation_kwargs("summarization", NEW_TOKENS)
    one = pipe(TEXT, **kwargs)
    assert isinstance(one, list) and len(one) == 1 and isinstance(one[0]["generated_text"], str)
    many = pipe([TEXT, SHORT, TEXT], **kwargs)
    assert len(many) == 3 and all(set(answer) == {"generated_text"} for answer in many)
    tokens = pipe(TEXT, return_tensors=True, **kwargs)
    assert len(tokens[0]["generated_token_ids"]) == 1 + NEW_TOKENS


def test_several_sequences_per_input_come_back_as_a_list_per_input() -> None:
    pipe = _pipe("bart")  # 4 beams from the checkpoint's generation config
    settings = {"max_new_tokens": 4, "min_new_tokens": 4, "num_return_sequences": 2}
    answers = pipe([TEXT, SHORT], generate_kwargs=settings)
    assert [len(per_input) for per_input in answers] == [2, 2]


@pytest.mark.parametrize("name", ["t5", "bart"])
def test_a_padded_batch_answers_as_the_queries_one_by_one(name: str) -> None:
    pipe = _pipe(name)
    texts = [TEXT, SHORT, f"{TEXT} and {TEXT}"]
    kwargs = generation_kwargs("summarization", NEW_TOKENS)
    alone = [_texts(pipe(text, **kwargs))[0] for text in texts]
    assert _texts(pipe(texts, batch_size=3, **kwargs)) == alone
    # One generate call for the batch; every answer is exactly NEW_TOKENS long.
    assert _generated_lengths(pipe, texts, batch_size=3, **kwargs) == [1 + NEW_TOKENS] * 3


def test_inputs_are_truncated_to_what_the_model_reads() -> None:
    pipe = _pipe("bart")
    assert pipe.max_input_tokens() == 1024  # BART's learned positions and its tokenizer
    long_text = " ".join([TEXT] * 200)  # 2,400 words, one token each
    inputs = pipe.preprocess(long_text)
    assert inputs["input_ids"].shape == (1, 1024)
    assert "token_type_ids" not in inputs
    assert pipe(long_text, **generation_kwargs("summarization", 2))
    untruncated = pipe.preprocess(long_text, truncation=False)
    assert untruncated["input_ids"].shape[1] == 2 + 200 * len(TEXT.split())


def test_a_checkpoint_prefix_is_put_before_every_input() -> None:
    pipe = _pipe("t5")
    plain = pipe.preprocess(TEXT)["input_ids"].shape[1]
    pipe.prefix = "summarize : "
    try:
        assert pipe.preprocess(TEXT)["input_ids"].shape[1] == plain + 2
    finally:
        pipe.prefix = None


def test_only_texts_are_taken() -> None:
    with pytest.raises(TypeError, match="texts"):
        _pipe("t5").preprocess({"question": "why"})  # type: ignore[arg-type]
