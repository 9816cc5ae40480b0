"""The suite's text encoder models: real sizes, tiny forms, token ids, and each task's
pipeline run end to end on the tiny form, one query and a batch.

A real size that drifts from the config (a wrong vocabulary, a head too many) fails the
meta count; ids that disagree between a config and its tokenizer fail the id checks
(a padding id the model does not know breaks batching); the pipelines must give the
same answer per query whether batched or not, which fails if padding leaks into them.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import transformers

from genwatt.models.tasks.build import build_task_model, build_task_pipeline, model_config
from genwatt.models.tasks.registry import get_task_model, list_task_models
from genwatt.models.tasks.spec import TaskModelSpec
from genwatt.models.tasks.text_encoders import (
    BERT_CASED,
    CONLL_LABELS,
    DEBERTA_V3,
    GPT2,
    ROBERTA,
    SPECS,
)
from genwatt.models.tasks.text_tokenizer import scheme_vocab_size
from genwatt.models.tasks.tokenizer_schemes import BERT

# The list, repo ids exactly as on the Hub.
REQUIRED = {
    "text-classification": {
        "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        "Cheng98/bert-large-sst2",
        "michelecafagna26/gpt2-medium-finetuned-sst2-sentiment",
    },
    "token-classification": {"dslim/bert-base-NER"},
    "question-answering": {
        "distilbert/distilbert-base-cased-distilled-squad",
        "deepset/bert-large-uncased-whole-word-masking-squad2",
        "deepset/deberta-v3-base-squad2",
    },
    "fill-mask": {"google-bert/bert-base-uncased", "FacebookAI/roberta-base"},
    "sentence-similarity": {
        "BAAI/bge-small-en-v1.5",
        "BAAI/bge-base-en-v1.5",
        "intfloat/e5-large-v2",
    },
}
# transformers' own pipeline for a task, where it has one (the others are genwatt's).
TRANSFORMERS_PIPELINES = {
    "text-classification": transformers.TextClassificationPipeline,
    "token-classification": transformers.TokenClassificationPipeline,
    "fill-mask": transformers.FillMaskPipeline,
}
PUBLISHED_TOLERANCE = 0.03  # the count a config builds vs. the size its authors state
TINY_QUERY_S = 0.1  # the suite's budget: 13 tasks of tiny models in 120 s on 2 cores

# Words of the built-in vocabulary, so that decoded answers read back as written.
SENTENCE = "the red cat sits on the green table near the old house"
CONTEXT = "a man walks in the garden . the red cat sits on the green table near the old house ."


def _ids(spec: TaskModelSpec) -> str:
    return spec.repo_id


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _query(task: str, mask: str | None, variant: int = 0) -> Any:
    """A query of ``task`` in the shape the suite passes; ``variant`` changes its length."""
    extra = " and a small dog runs up the hill" * variant
    if task == "question-answering":
        return {"question": "where does the cat sit ?", "context": CONTEXT + extra}
    if task == "sentence-similarity":
        return {"text": SENTENCE + extra, "text_pair": "a dog runs in the garden"}
    if task == "fill-mask":
        return f"the red cat sits on the {mask} table{extra} ."
    return SENTENCE + extra


@pytest.fixture(scope="module")
def tiny_pipelines() -> dict[str, Any]:
    """Each model's tiny pipeline, built once for the module."""
    return {s.repo_id: build_task_pipeline(s, s.tasks[0], "tiny") for s in SPECS}


# ------------------------------------------------------------------ registry entries


@pytest.mark.parametrize(("task", "repos"), REQUIRED.items())
def test_every_required_model_is_registered_under_its_task(task: str, repos: set[str]) -> None:
    listed = {s.repo_id for s in list_task_models(task)}
    assert repos <= listed
    for repo in repos:
        spec = get_task_model(repo)
        assert spec.repo_id == repo
        assert spec.tasks == (task,)
        assert spec.kind == "task-specific"
        assert spec in SPECS
        for alias in spec.aliases:
            assert get_task_model(alias.upper()) is spec


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_real_size_is_the_count_the_config_builds_and_close_to_the_published(
    spec: TaskModelSpec,
) -> None:
    counted = _params(build_task_model(spec, "random", "meta"))
    assert counted == spec.params
    assert spec.published_params is not None and spec.published_source
    assert abs(counted / spec.published_params - 1) < PUBLISHED_TOLERANCE
    assert spec.source.startswith("config.json of ")


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_tiny_form_is_the_same_classes_small(spec: TaskModelSpec) -> None:
    tiny = build_task_model(spec, "tiny")
    real = build_task_model(spec, "random", "meta")
    assert type(tiny) is type(real)
    assert _params(tiny) == spec.tiny_params
    assert spec.tiny_params is not None and spec.tiny_params < 100_000
    width = getattr(tiny.config, "hidden_size", None) or tiny.config.dim
    layers = getattr(tiny.config, "num_hidden_layers", None) or tiny.config.n_layers
    assert width <= 64
    assert layers == 2


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
@pytest.mark.parametrize("weights", ["random", "tiny"])
def test_config_ids_are_the_tokenizers_ids(spec: TaskModelSpec, weights: str) -> None:
    """Padding, start and end ids of the config are the tokenizer's (real ids for the
    real size, compact ids for the tiny form), and every token id fits the embeddings."""
    assert spec.tokenizer is not None
    scheme = spec.tokenizer.compact() if weights == "tiny" else spec.tokenizer
    config = model_config(spec, weights)
    for role in ("pad", "bos", "eos"):
        configured = getattr(config, f"{role}_token_id", None)
        if scheme.token_id(role) is not None:
            assert configured == scheme.token_id(role), role
    assert config.vocab_size >= scheme_vocab_size(scheme)
    assert config.pad_token_id is not None  # batching needs it (GPT-2 included)


@pytest.mark.parametrize(
    ("scheme", "real_vocab"),
    [(BERT, 30522), (BERT_CASED, 28996), (ROBERTA, 50265), (DEBERTA_V3, 128100), (GPT2, 50257)],
    ids=lambda v: getattr(v, "family", str(v)),
)
def test_special_ids_are_inside_the_real_vocabulary(scheme: Any, real_vocab: int) -> None:
    ids = [i for _, i in scheme.specials.values()]
    assert max(ids) < real_vocab
    assert scheme_vocab_size(scheme) <= real_vocab  # the built-in words fit between them


def test_classification_labels_are_the_heads_labels_in_id_order() -> None:
    for spec in SPECS:
        if spec.tasks[0] not in ("text-classification", "token-classification"):
            assert spec.labels == ()
            continue
        id2label = model_config(spec, "random").id2label
        assert tuple(id2label[i] for i in range(len(id2label))) == spec.labels
        expected = 9 if spec.tasks[0] == "token-classification" else 2
        assert len(spec.labels) == expected
    assert get_task_model("dslim/bert-base-NER").labels == CONLL_LABELS


def test_sentence_embedders_name_their_pooling_and_prefix() -> None:
    kwargs = {s.repo_id: dict(s.pipeline_kwargs) for s in list_task_models("sentence-similarity")}
    assert kwargs["BAAI/bge-small-en-v1.5"] == {"pooling": "cls"}
    assert kwargs["BAAI/bge-base-en-v1.5"] == {"pooling": "cls"}
    assert kwargs["intfloat/e5-large-v2"] == {"pooling": "mean", "prefix": "query: "}


# ------------------------------------------------------------------ tiny pipelines


def _check_output(task: str, spec: TaskModelSpec, query: Any, output: Any, mask: str) -> None:
    """The structure each task's answer has, and that it refers to the query."""
    if task == "text-classification":
        (answer,) = output
        assert answer["label"] in spec.labels
        assert 0 < answer["score"] <= 1
    elif task == "token-classification":
        assert isinstance(output, list)
        for entity in output:
            assert entity["entity"] in spec.labels
            assert query[entity["start"] : entity["end"]] == entity["word"]
    elif task == "question-answering":
        assert output["answer"] == query["context"][output["start"] : output["end"]]
        assert output["answer"]
        assert 0 < output["score"] <= 1
    elif task == "fill-mask":
        assert len(output) == 5
        for guess in output:
            assert guess["sequence"].startswith("the red cat sits on the")
            assert mask not in guess["sequence"]
            assert 0 <= guess["token"] < spec.tiny_config["vocab_size"]
    else:
        assert set(output) == {"similarity"}
        assert -1.0 - 1e-5 <= output["similarity"] <= 1.0 + 1e-5


def _same(a: Any, b: Any) -> None:
    """Equal answers, scores to float tolerance (padding changes rounding only)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, float | np.floating):
        assert a == pytest.approx(b, rel=1e-4, abs=1e-5)
    else:
        assert a == b


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_tiny_pipeline_answers_one_query_and_a_batch_alike(
    spec: TaskModelSpec, tiny_pipelines: dict[str, Any]
) -> None:
    task = spec.tasks[0]
    pipe = tiny_pipelines[spec.repo_id]
    expected = TRANSFORMERS_PIPELINES.get(task)
    if expected is not None:
        assert type(pipe) is expected
        assert spec.pipeline is None
    else:
        assert spec.pipeline is not None and type(pipe).__module__.startswith("genwatt.")
    mask = pipe.tokenizer.mask_token or ""
    queries = [_query(task, mask, variant) for variant in (0, 2, 1)]  # lengths differ
    singles = [pipe(q) for q in queries]
    for query, output in zip(queries, singles, strict=True):
        _check_output(task, spec, query, output, mask)
    batched = pipe(queries, batch_size=2)
    if task == "text-classification":
        batched = [[answer] for answer in batched]  # a list input gives one dict per query
    _same(batched, singles)


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_tiny_query_is_well_inside_the_suites_budget(
    spec: TaskModelSpec, tiny_pipelines: dict[str, Any]
) -> None:
    pipe = tiny_pipelines[spec.repo_id]
    query = _query(spec.tasks[0], pipe.tokenizer.mask_token)
    pipe(query)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        pipe(query)
        timings.append(time.perf_counter() - start)
    assert sorted(timings)[1] < TINY_QUERY_S


@pytest.mark.parametrize(
    "name", ["gpt2-medium-sst2", "bert-base-ner", "deberta-v3-squad2", "roberta-base", "e5-large"]
)
def test_pretrained_loading_reads_what_the_classes_save(name: str, tmp_path: Path) -> None:
    """``--weights pretrained`` goes through ``from_pretrained`` of the spec's class and
    ``AutoTokenizer``: a tiny model and tokenizer saved to a folder load and run."""
    spec = get_task_model(name)
    task = spec.tasks[0]
    built = build_task_pipeline(spec, task, "tiny")
    built.model.save_pretrained(tmp_path)
    built.tokenizer.save_pretrained(tmp_path)
    local = replace(spec, repo_id=str(tmp_path), aliases=())
    loaded = build_task_pipeline(local, task, "pretrained")
    assert type(loaded.model) is type(built.model)
    query = _query(task, loaded.tokenizer.mask_token)
    _same(loaded(query), built(query))
