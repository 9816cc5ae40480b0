"""genwatt's sentence-similarity pipeline: pooling, normalisation, batching through
transformers' base class, the padding it fixes, the prefix, and bad queries.

The base class pads every key of a batch to the longest query, one row per query; a
query that carried its two sentences as one two-row tensor would lose its second
sentence there. These tests fail if batching changes any answer, if the encoder runs
more than once per batch, or if padding reaches the model with the wrong id.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
import transformers

from genwatt.errors import ConfigError
from genwatt.models.tasks.build import build_task_pipeline
from genwatt.models.tasks.pipelines.sentence_similarity import SentenceSimilarityPipeline, pool
from genwatt.models.tasks.registry import get_task_model
from genwatt.models.tasks.text_encoders import ROBERTA, TINY_ROBERTA
from genwatt.models.tasks.text_tokenizer import build_scheme_tokenizer

PAIRS = [
    {"text": "the red cat sits on the table", "text_pair": "a dog runs"},
    {"text": "a man", "text_pair": "a man walks in the garden near the old house at night"},
    {"text": "two birds fly over the lake", "text_pair": "two birds fly over the lake"},
]


@pytest.fixture(scope="module")
def bge() -> SentenceSimilarityPipeline:
    return build_task_pipeline(get_task_model("bge-small"), "sentence-similarity", "tiny")


@pytest.fixture(scope="module")
def e5() -> SentenceSimilarityPipeline:
    return build_task_pipeline(get_task_model("e5-large"), "sentence-similarity", "tiny")


def _encoder_calls(pipe: Any) -> tuple[list[dict[str, torch.Tensor]], Any]:
    """Records the keyword inputs of every encoder call; returns them and the hook handle."""
    calls: list[dict[str, torch.Tensor]] = []

    def record(_: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        calls.append({k: v.clone() for k, v in kwargs.items() if isinstance(v, torch.Tensor)})

    handle = pipe.model.register_forward_pre_hook(record, with_kwargs=True)
    return calls, handle


def test_cls_pooling_takes_the_first_vector_and_mean_pooling_skips_padding() -> None:
    hidden = torch.tensor([[[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert pool(hidden, mask, "cls").tolist() == [[1.0, 0.0]]
    assert pool(hidden, mask, "mean").tolist() == [[2.0, 2.0]]


def test_the_spec_sets_pooling_and_prefix_on_the_pipeline(
    bge: SentenceSimilarityPipeline, e5: SentenceSimilarityPipeline
) -> None:
    assert bge._postprocess_params == {"pooling": "cls"}
    assert bge._preprocess_params == {}
    assert e5._postprocess_params == {"pooling": "mean"}
    assert e5._preprocess_params == {"prefix": "query: "}


def test_e5_reads_both_sentences_with_its_query_prefix(e5: SentenceSimilarityPipeline) -> None:
    features = e5.preprocess(PAIRS[0], **e5._preprocess_params)
    tokenizer = e5.tokenizer
    for key, text in (("input_ids", PAIRS[0]["text"]), ("input_ids_pair", PAIRS[0]["text_pair"])):
        ids = features[key][0][features[key.replace("input_ids", "attention_mask")][0] == 1]
        assert ids.tolist() == tokenizer("query: " + text)["input_ids"]


@pytest.mark.parametrize("name", ["bge-small", "e5-large"])
def test_a_sentence_is_its_own_nearest_and_similarity_is_symmetric(name: str) -> None:
    pipe = build_task_pipeline(get_task_model(name), "sentence-similarity", "tiny")
    same = pipe(PAIRS[2])["similarity"]
    assert same == pytest.approx(1.0, abs=1e-5)
    forward = pipe(PAIRS[1])["similarity"]
    backward = pipe({"text": PAIRS[1]["text_pair"], "text_pair": PAIRS[1]["text"]})["similarity"]
    assert forward == pytest.approx(backward, abs=1e-6)
    assert -1.0 <= forward < same


@pytest.mark.parametrize("batch_size", [2, 3])
@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_batches_of_unequal_lengths_give_each_query_its_own_answer(
    bge: SentenceSimilarityPipeline, batch_size: int, pooling: str
) -> None:
    singles = [bge(pair, pooling=pooling)["similarity"] for pair in PAIRS]
    batched = [out["similarity"] for out in bge(PAIRS, batch_size=batch_size, pooling=pooling)]
    assert batched == pytest.approx(singles, abs=1e-5)


def test_a_batch_is_one_encoder_forward_over_both_sentences_of_every_query(
    bge: SentenceSimilarityPipeline,
) -> None:
    calls, handle = _encoder_calls(bge)
    try:
        bge(PAIRS, batch_size=3)
    finally:
        handle.remove()
    (call,) = calls
    assert call["input_ids"].shape[0] == 2 * len(PAIRS)


def test_padding_reaches_the_model_as_the_tokenizers_pad_id() -> None:
    """RoBERTa pads with 1, not with the 0 the base class pads extra keys with."""
    model = transformers.RobertaModel(transformers.RobertaConfig(**TINY_ROBERTA)).eval()
    tokenizer = build_scheme_tokenizer(ROBERTA.compact())
    pipe = SentenceSimilarityPipeline(model=model, tokenizer=tokenizer, device="cpu")
    calls, handle = _encoder_calls(pipe)
    try:
        batched = [out["similarity"] for out in pipe(PAIRS, batch_size=3)]
    finally:
        handle.remove()
    (call,) = calls
    padding = call["attention_mask"] == 0
    assert padding.any()
    assert (call["input_ids"][padding] == tokenizer.pad_token_id).all()
    assert tokenizer.pad_token_id == 1
    assert batched == pytest.approx([pipe(p)["similarity"] for p in PAIRS], abs=1e-5)


def test_runs_on_the_device_it_is_given(bge: SentenceSimilarityPipeline) -> None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    pipe = build_task_pipeline(get_task_model("bge-small"), "sentence-similarity", "tiny", device)
    assert pipe.device.type == device
    assert next(pipe.model.parameters()).device.type == device
    got = [out["similarity"] for out in pipe(PAIRS, batch_size=2)]
    assert got == pytest.approx([bge(p)["similarity"] for p in PAIRS], abs=1e-4)


@pytest.mark.parametrize(
    "query",
    [
        "just one sentence",
        {"text": "one"},
        {"text": "one", "text_pair": 2},
        ("one", "two"),
    ],
    ids=["str", "no-pair", "not-text", "tuple"],
)
def test_a_query_of_the_wrong_shape_says_what_a_query_is(
    bge: SentenceSimilarityPipeline, query: Any
) -> None:
    with pytest.raises(ConfigError, match="text_pair"):
        bge(query)


def test_unknown_settings_are_refused(bge: SentenceSimilarityPipeline) -> None:
    with pytest.raises(ConfigError, match="pooling"):
        bge(PAIRS[0], pooling="max")
    with pytest.raises(ConfigError, match="takes pooling"):
        bge(PAIRS[0], top_k=3)
