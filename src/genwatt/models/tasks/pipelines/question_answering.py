"""Extractive question answering as a transformers ``ChunkPipeline``.

transformers v5 removed its ``question-answering`` pipeline; Power Hungry Processing
ran the v4 one. This pipeline does the same work in the same stages, with v4's
defaults, so that a ``*ForQuestionAnswering`` model costs here what it cost there:

- ``preprocess`` encodes ``(question, context)`` as a pair, the context cut into
  windows of ``max_seq_len`` tokens overlapping by ``doc_stride`` (SQuAD contexts are
  mostly shorter than one window), with offsets and the mask of context tokens, the
  only ones an answer may start or end on. It tokenises eagerly and hands back an
  iterator over the windows, so the suite's ``preprocess`` window holds the
  tokeniser's work (a generator, as transformers' token-classification ``preprocess``
  is, would do that work only once iterated, after the window has closed).
- ``_forward`` runs the model on each window (windows of several queries batch
  together through the base class);
- ``postprocess`` turns each window's start and end logits into span probabilities,
  keeps spans inside the context no longer than ``max_answer_len`` tokens, and maps the
  best back to characters of the context: ``{"score", "start", "end", "answer"}`` (a
  list of ``top_k`` of them when ``top_k`` > 1).

A query is ``{"question": q, "context": c}``; a list of them is a batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from transformers.pipelines.base import ChunkPipeline

from genwatt.errors import ConfigError

if TYPE_CHECKING:
    import torch

# transformers v4's defaults for the pipeline, which the anchors ran with.
MAX_SEQ_LEN = 384
DOC_STRIDE = 128
MAX_ANSWER_LEN = 15


def _question_context(inputs: Any) -> tuple[str, str]:
    """The question and context of one query, or a ConfigError saying what a query is."""
    if isinstance(inputs, Mapping):
        question, context = inputs.get("question"), inputs.get("context")
        if isinstance(question, str) and isinstance(context, str) and question.strip():
            return question, context
    raise ConfigError(
        "A question-answering query is a dict {'question': str, 'context': str} with a "
        f"non-empty question (a list of them for a batch); got {type(inputs).__name__}: "
        f"{str(inputs)[:80]!r}."
    )


def _probabilities(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Softmax of ``logits`` over the ``allowed`` positions (0 elsewhere)."""
    masked = np.where(allowed, logits.astype(np.float64), -np.inf)
    masked = np.exp(masked - masked.max())
    return masked / masked.sum()


def best_spans(
    start: np.ndarray, end: np.ndarray, allowed: np.ndarray, top_k: int, max_answer_len: int
) -> list[tuple[int, int, float]]:
    """The ``top_k`` spans ``(first token, last token, probability)`` of one window:
    start and end among the ``allowed`` tokens, start <= end < start + max_answer_len."""
    scores = np.outer(_probabilities(start, allowed), _probabilities(end, allowed))
    scores = np.tril(np.triu(scores), max_answer_len - 1)
    flat = scores.ravel()
    count = min(top_k, int(np.count_nonzero(flat)))
    if count == 0:
        return []
    best = np.argpartition(-flat, count - 1)[:count]
    best = best[np.argsort(-flat[best])]
    firsts, lasts = np.unravel_index(best, scores.shape)
    return [(int(s), int(e), float(flat[i])) for s, e, i in zip(firsts, lasts, best, strict=True)]


class ExtractiveQuestionAnsweringPipeline(ChunkPipeline):
    """The answer span of a question in its context, from a ``*ForQuestionAnswering`` model."""

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False

    def _sanitize_parameters(
        self,
        max_seq_len: int | None = None,
        doc_stride: int | None = None,
        max_answer_len: int | None = None,
        top_k: int | None = None,
        handle_impossible_answer: bool | None = None,
        **kwargs: Any,
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        if kwargs:
            raise ConfigError(
                "question-answering takes max_seq_len, doc_stride, max_answer_len, top_k and "
                f"handle_impossible_answer; got {sorted(kwargs)}."
            )
        for name, value in (
            ("max_seq_len", max_seq_len),
            ("doc_stride", doc_stride),
            ("max_answer_len", max_answer_len),
            ("top_k", top_k),
        ):
            if value is not None and value < 1:
                raise ConfigError(f"question-answering: {name} must be at least 1, got {value}.")
        preprocess = {
            k: v
            for k, v in (("max_seq_len", max_seq_len), ("doc_stride", doc_stride))
            if v is not None
        }
        postprocess = {
            k: v
            for k, v in (
                ("max_answer_len", max_answer_len),
                ("top_k", top_k),
                ("handle_impossible_answer", handle_impossible_answer),
            )
            if v is not None
        }
        return preprocess, {}, postprocess

    def preprocess(
        self, inputs: Any, max_seq_len: int = MAX_SEQ_LEN, doc_stride: int = DOC_STRIDE
    ) -> Iterator[dict[str, Any]]:
        import torch

        question, context = _question_context(inputs)
        tokenizer = self.tokenizer
        assert tokenizer is not None
        max_seq_len = min(max_seq_len, tokenizer.model_max_length)
        doc_stride = min(doc_stride, max_seq_len // 2)
        # The question goes first unless the tokenizer pads on the left (XLNet's way).
        question_first = tokenizer.padding_side == "right"
        try:
            encoded = tokenizer(
                question if question_first else context,
                context if question_first else question,
                truncation="only_second" if question_first else "only_first",
                max_length=max_seq_len,
                stride=doc_stride,
                return_overflowing_tokens=True,
                return_offsets_mapping=True,
            )
        except Exception as exc:  # tokenizers raises a bare Exception when nothing fits
            if "truncat" not in str(exc).lower():
                raise
            raise ConfigError(
                f"question-answering: the question {question[:60]!r}... leaves no room for "
                f"the context in windows of {max_seq_len} tokens overlapping by {doc_stride}; "
                "shorten the question or raise max_seq_len."
            ) from exc
        context_sequence = 1 if question_first else 0
        windows = len(encoded["input_ids"])
        features = []
        for i in range(windows):
            sequence_ids = encoded.sequence_ids(i)
            in_context = [s == context_sequence for s in sequence_ids]
            feature: dict[str, Any] = {
                name: torch.tensor([encoded[name][i]]) for name in tokenizer.model_input_names
            }
            feature["context_mask"] = torch.tensor([in_context])
            feature["offsets"] = [tuple(o) for o in encoded["offset_mapping"][i]]
            feature["context"] = context
            feature["is_last"] = i == windows - 1
            features.append(feature)
        return iter(features)

    def _forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        assert self.tokenizer is not None
        model_inputs = {name: inputs[name] for name in self.tokenizer.model_input_names}
        output = self.model(**model_inputs)
        return {"start_logits": output.start_logits, "end_logits": output.end_logits, **inputs}

    def postprocess(
        self,
        all_outputs: list[dict[str, Any]],
        top_k: int = 1,
        max_answer_len: int = MAX_ANSWER_LEN,
        handle_impossible_answer: bool = False,
    ) -> dict[str, Any] | list[dict[str, Any]]:
        answers: list[dict[str, Any]] = []
        null_score = 0.0
        for window in all_outputs:
            start = _row(window["start_logits"])
            end = _row(window["end_logits"])
            allowed = _row(window["context_mask"]).astype(bool)
            if window.get("attention_mask") is not None:  # padding of a batch is no answer
                allowed &= _row(window["attention_mask"]).astype(bool)
            if handle_impossible_answer:
                # The first token ([CLS]) stands for "no answer" (SQuAD 2.0 training).
                with_null = allowed.copy()
                with_null[0] = True
                null_score = max(
                    null_score,
                    float(_probabilities(start, with_null)[0] * _probabilities(end, with_null)[0]),
                )
            if not allowed.any():
                continue
            offsets = window["offsets"]
            context = window["context"]
            for first, last, score in best_spans(start, end, allowed, top_k, max_answer_len):
                begin, finish = offsets[first][0], offsets[last][1]
                answers.append(
                    {"score": score, "start": begin, "end": finish, "answer": context[begin:finish]}
                )
        if handle_impossible_answer:
            answers.append({"score": null_score, "start": 0, "end": 0, "answer": ""})
        answers = sorted(answers, key=lambda a: a["score"], reverse=True)[:top_k]
        if not answers:
            answers = [{"score": 0.0, "start": 0, "end": 0, "answer": ""}]
        return answers[0] if top_k == 1 else answers


def _row(value: torch.Tensor) -> np.ndarray:
    """One window's values as a 1-D array (the base class hands them as ``[1, length]``)."""
    value = value.detach().cpu()
    if value.is_floating_point():
        value = value.float()
    return value.numpy().reshape(-1)


__all__ = [
    "DOC_STRIDE",
    "MAX_ANSWER_LEN",
    "MAX_SEQ_LEN",
    "ExtractiveQuestionAnsweringPipeline",
    "best_spans",
]
