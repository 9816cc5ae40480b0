"""How good the suite's answers are, where the data has labels: one metric per task.

Pure Python, no evaluation library: each metric takes lists of predictions and
references and returns a float, accuracy-like ones in [0, 1] and the word error rate
from 0 up. The metric names are ``genwatt.models.tasks.spec.QualityMetric``:

- ``accuracy``: the predicted label equals the reference, ignoring case and
  punctuation ("pos"/"neg", the IMDB and Rotten Tomatoes names, count as
  "positive"/"negative"). A generated text (a multi-purpose model's answer, longer than
  the label) matches when it contains the label's words; given the task's ``labels``,
  the label that comes first in the text is the one it answered.
- ``entity-f1``: micro-averaged F1 over entities taken as (type, text) pairs, a
  prediction counting once for each reference entity of the same type and normalised
  text. seqeval scores token spans instead; pairs need no offsets, so a tokenizer that
  cuts words differently from the reference still scores, at the cost of treating two
  mentions of one name in a sentence as interchangeable.
- ``squad-f1``: SQuAD's token F1, the best over the reference answers, after the
  official script's normalisation (lower case, no punctuation, no articles, single
  spaces). An empty reference (SQuAD v2's unanswerable questions) is matched only by an
  empty answer. ``exact_match`` is the official exact match.
- ``top1``: fill-mask's top token equals the masked word.
- ``rouge-l``: ROUGE-L F1 of the longest common subsequence of words, tokenised as the
  ``rouge_score`` package does (lower case, runs of letters and digits, no stemming),
  over the whole text (its ``rougeL``, not the per-sentence ``rougeLsum``).
- ``wer``: word error rate over the corpus: word-level edit distance summed over the
  utterances, over the reference words summed, after lower-casing and dropping
  punctuation (apostrophes inside words kept).

For energy per correct answer, ``correct_count`` says how many answers were right:
label or top-token matches, SQuAD exact matches, sentences whose entities all match,
utterances transcribed without an error (sentence accuracy). ROUGE-L has no notion of a
right summary, so it gives None.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Sentiment label names of the anchor datasets, as the classifiers name them.
_LABEL_SYNONYMS = {"pos": "positive", "neg": "negative"}

HIGHER_IS_BETTER = {
    "accuracy": True,
    "entity-f1": True,
    "squad-f1": True,
    "top1": True,
    "rouge-l": True,
    "wer": False,
}


@dataclass(frozen=True)
class QualityScore:
    """One metric over ``n`` scored queries; ``correct`` is None where it has no meaning."""

    metric: str
    value: float
    n: int
    higher_is_better: bool
    correct: int | None = None


# --- normalisation -----------------------------------------------------------------

_PUNCT = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def _words(text: str) -> list[str]:
    """Lower-case words with punctuation dropped (apostrophes inside words kept)."""
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", str(text).lower())
    return re.sub(r"[^\w\s']", " ", text).split()


def _canon_label(label: Any) -> str:
    words = _words(label)
    return " ".join(_LABEL_SYNONYMS.get(w, w) for w in words)


def normalize_answer(text: str) -> str:
    """SQuAD's official normalisation: lower case, no punctuation, no articles, spaces."""
    text = "".join(ch for ch in str(text).lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


# --- accuracy and top-1 ------------------------------------------------------------


def _find(words: list[str], target: list[str]) -> int | None:
    """Where ``target`` first occurs as a run of whole words in ``words``."""
    if not target:
        return None
    for i in range(len(words) - len(target) + 1):
        if words[i : i + len(target)] == target:
            return i
    return None


def label_matches(prediction: Any, reference: Any, labels: Iterable[str] | None = None) -> bool:
    """Whether a predicted label, or a generated text, gives the reference label."""
    predicted, expected = _canon_label(prediction), _canon_label(reference)
    if predicted == expected:
        return True
    predicted_words, expected_words = predicted.split(), expected.split()
    if len(predicted_words) <= len(expected_words):
        return False  # a classifier's label: only an exact match counts
    if labels is None:
        return _find(predicted_words, expected_words) is not None
    found = {
        label: at
        for label in {_canon_label(x) for x in labels}
        if (at := _find(predicted_words, label.split())) is not None
    }
    return bool(found) and min(found, key=lambda label: (found[label], -len(label))) == expected


def accuracy(
    predictions: Sequence[Any], references: Sequence[Any], labels: Iterable[str] | None = None
) -> float:
    """Share of predictions that give the reference label (see ``label_matches``)."""
    _check(predictions, references)
    label_set = list(labels) if labels is not None else None
    hits = sum(label_matches(p, r, label_set) for p, r in zip(predictions, references, strict=True))
    return hits / len(references)


def _top1_hit(prediction: Any, reference: Any) -> bool:
    return str(prediction).strip().lower() == str(reference).strip().lower()


def top1(predictions: Sequence[Any], references: Sequence[Any]) -> float:
    """Share of fill-mask queries whose top token is the masked word (case ignored)."""
    _check(predictions, references)
    return sum(map(_top1_hit, predictions, references)) / len(references)


# --- SQuAD ---------------------------------------------------------------------------


def _answers(reference: Any) -> list[str]:
    """A reference as a list of answers; none at all means unanswerable ("")."""
    if reference is None:
        return [""]
    if isinstance(reference, str):
        return [reference]
    if isinstance(reference, Mapping):  # SQuAD's {"text": [...], "answer_start": [...]}
        reference = reference.get("text", ())
    answers = [str(a) for a in reference]
    return answers or [""]


def _token_f1(prediction: str, answer: str) -> float:
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(answer).split()
    if not predicted or not expected:
        return float(predicted == expected)
    same = sum((Counter(predicted) & Counter(expected)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(expected)
    return 2 * precision * recall / (precision + recall)


def _exact(prediction: Any, reference: Any) -> bool:
    answer = normalize_answer(str(prediction or ""))
    return any(answer == normalize_answer(a) for a in _answers(reference))


def squad_f1(predictions: Sequence[Any], references: Sequence[Any]) -> float:
    """Mean over questions of the best token F1 against any reference answer."""
    _check(predictions, references)
    total = sum(
        max(_token_f1(str(p or ""), a) for a in _answers(r))
        for p, r in zip(predictions, references, strict=True)
    )
    return total / len(references)


def exact_match(predictions: Sequence[Any], references: Sequence[Any]) -> float:
    """Share of answers equal to a reference answer after SQuAD's normalisation."""
    _check(predictions, references)
    return sum(map(_exact, predictions, references)) / len(references)


# --- entities ------------------------------------------------------------------------


def _entity_key(entity: Any) -> tuple[str, str]:
    """(type, text) of an entity given as a pair or as a pipeline's / dataset's dict."""
    if isinstance(entity, Mapping):
        kind = entity.get("entity_group") or entity.get("type") or entity.get("label")
        kind = kind or entity.get("entity") or ""
        text = entity.get("word") or entity.get("text") or ""
    else:
        kind, text = entity
    kind = re.sub(r"^[BIES]-", "", str(kind).upper())
    return kind, " ".join(_words(text))


def _entity_counts(entities: Any) -> Counter[tuple[str, str]]:
    return Counter(_entity_key(e) for e in (entities or ()))


def entity_f1(predictions: Sequence[Any], references: Sequence[Any]) -> float:
    """Micro F1 over (type, text) entities of all sentences; 1.0 when neither has any."""
    _check(predictions, references)
    hits = predicted = expected = 0
    for p, r in zip(predictions, references, strict=True):
        got, want = _entity_counts(p), _entity_counts(r)
        hits += sum((got & want).values())
        predicted += sum(got.values())
        expected += sum(want.values())
    if predicted == 0 and expected == 0:
        return 1.0
    if hits == 0:
        return 0.0
    precision, recall = hits / predicted, hits / expected
    return 2 * precision * recall / (precision + recall)


# --- ROUGE-L -------------------------------------------------------------------------


def _rouge_tokens(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower()).split()


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (one row of the table at a time)."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l_pair(prediction: str, reference: str) -> float:
    """ROUGE-L F1 of one summary against one reference."""
    predicted, expected = _rouge_tokens(prediction), _rouge_tokens(reference)
    common = _lcs(predicted, expected)
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def rouge_l(predictions: Sequence[Any], references: Sequence[Any]) -> float:
    """Mean ROUGE-L F1 over the pairs."""
    _check(predictions, references)
    return sum(map(rouge_l_pair, predictions, references)) / len(references)


# --- WER -----------------------------------------------------------------------------


def _edits(hypothesis: Sequence[str], reference: Sequence[str]) -> int:
    """Word-level Levenshtein distance (substitutions, insertions, deletions)."""
    previous = list(range(len(reference) + 1))
    for i, h in enumerate(hypothesis, start=1):
        current = [i]
        for j, r in enumerate(reference, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (h != r)))
        previous = current
    return previous[-1]


def wer(predictions: Sequence[Any], references: Sequence[Any]) -> float:
    """Corpus word error rate: edits summed over reference words summed (0 is perfect)."""
    _check(predictions, references)
    edits = words = 0
    for p, r in zip(predictions, references, strict=True):
        expected = _words(r)
        edits += _edits(_words(p), expected)
        words += len(expected)
    if words == 0:
        raise ValueError("The word error rate needs at least one reference word.")
    return edits / words


# --- one entry point -----------------------------------------------------------------


_METRICS = {
    "accuracy": accuracy,
    "entity-f1": entity_f1,
    "squad-f1": squad_f1,
    "top1": top1,
    "rouge-l": rouge_l,
    "wer": wer,
}


def correct_count(
    metric: str,
    predictions: Sequence[Any],
    references: Sequence[Any],
    labels: Iterable[str] | None = None,
) -> int | None:
    """How many answers were right, for energy per correct answer; None for ROUGE-L."""
    _check(predictions, references)
    pairs = list(zip(predictions, references, strict=True))
    if metric == "accuracy":
        label_set = list(labels) if labels is not None else None
        return sum(label_matches(p, r, label_set) for p, r in pairs)
    if metric == "top1":
        return sum(_top1_hit(p, r) for p, r in pairs)
    if metric == "squad-f1":
        return sum(_exact(p, r) for p, r in pairs)
    if metric == "entity-f1":
        return sum(_entity_counts(p) == _entity_counts(r) for p, r in pairs)
    if metric == "wer":
        return sum(_edits(_words(p), _words(r)) == 0 for p, r in pairs)
    if metric in ("rouge-l", "none"):
        return None
    raise ValueError(f"Unknown quality metric {metric!r}; use one of {', '.join(_METRICS)}.")


def score(
    metric: str,
    predictions: Sequence[Any],
    references: Sequence[Any],
    labels: Iterable[str] | None = None,
) -> QualityScore:
    """``metric`` over the queries that have a reference (None references are skipped).

    ``labels`` are the task's label names, for ``accuracy`` on generated text.
    """
    if metric not in _METRICS:
        raise ValueError(f"Unknown quality metric {metric!r}; use one of {', '.join(_METRICS)}.")
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references.")
    pairs = [(p, r) for p, r in zip(predictions, references, strict=True) if r is not None]
    if not pairs:
        raise ValueError(f"No query has a reference to score {metric} against.")
    kept_p = [p for p, _ in pairs]
    kept_r = [r for _, r in pairs]
    label_set = list(labels) if labels is not None else None
    if metric == "accuracy":
        value = accuracy(kept_p, kept_r, label_set)
    else:
        value = _METRICS[metric](kept_p, kept_r)
    return QualityScore(
        metric=metric,
        value=value,
        n=len(pairs),
        higher_is_better=HIGHER_IS_BETTER[metric],
        correct=correct_count(metric, kept_p, kept_r, label_set),
    )


def _check(predictions: Sequence[Any], references: Sequence[Any]) -> None:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references.")
    if not references:
        raise ValueError("No predictions to score.")


# --- what a pipeline answered ----------------------------------------------------------

_TEXT_KEYS = ("generated_text", "summary_text", "translation_text", "text", "answer")


def _unwrap(output: Any) -> Any:
    """A one-element list (a single query's batch of one) as its element."""
    while isinstance(output, list | tuple) and len(output) == 1:
        output = output[0]
    return output


def _text_of(output: Any) -> Any:
    output = _unwrap(output)
    if isinstance(output, Mapping):
        for key in _TEXT_KEYS:
            if key in output:
                return str(output[key]).strip()
    return output


def _best(candidates: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    return max(candidates, key=lambda c: c.get("score", 0.0))


def _top_label(output: Any) -> Any:
    output = _unwrap(output)
    if isinstance(output, list | tuple) and output and isinstance(output[0], list | tuple):
        output = output[0]  # top_k lists, one per input: the first input's
    if isinstance(output, list | tuple) and output and isinstance(output[0], Mapping):
        output = _best(output)
    if isinstance(output, Mapping):
        if "label" in output:
            return output["label"]
        return _text_of(output)
    return output


def _entities(output: Any) -> tuple[tuple[str, str], ...]:
    """The entities of a token-classification output, aggregated or token by token.

    Tokens tagged ``B-X``/``I-X`` (no aggregation) are joined into entities as
    ``aggregation_strategy="simple"`` would: a new entity at ``B-``, a change of type or
    a gap in token indices; word pieces (``##x``) glued to the word before.
    """
    items = list(output or ())
    if items and isinstance(items[0], list):  # a batch of one
        items = items[0]
    entities: list[tuple[str, str]] = []
    last_index: int | None = None
    for item in items:
        if "entity_group" in item:
            entities.append((str(item["entity_group"]), str(item["word"]).strip()))
            continue
        tag = str(item.get("entity", ""))
        kind = re.sub(r"^[BIES]-", "", tag)
        word = str(item.get("word", ""))
        index = item.get("index")
        follows = (
            bool(entities)
            and not tag.startswith("B-")
            and entities[-1][0] == kind
            and (index is None or last_index is None or index == last_index + 1)
        )
        if follows:
            joined = entities[-1][1] + (word[2:] if word.startswith("##") else f" {word}")
            entities[-1] = (kind, joined)
        else:
            entities.append((kind, word.removeprefix("##")))
        last_index = index
    return tuple(entities)


def prediction_of(task: str, output: Any) -> Any:
    """The answer in one query's pipeline output, in the shape its metric takes.

    Classification: the top label (or the generated text of a multi-purpose model);
    token classification: (type, text) entities; question answering: the answer text;
    fill-mask: the top token; generating tasks: the generated text; speech: the
    transcript. Object detection and sentence similarity return the output as it is,
    the diffusion tasks None: they have no quality metric.
    """
    if task in ("text-classification", "image-classification"):
        return _top_label(output)
    if task == "token-classification":
        return _entities(output)
    if task == "question-answering":
        output = _unwrap(output)
        if isinstance(output, list | tuple) and output and isinstance(output[0], Mapping):
            output = _best(output)
        return _text_of(output)
    if task == "fill-mask":
        output = _unwrap(output)
        if isinstance(output, list | tuple) and output and isinstance(output[0], list | tuple):
            output = output[0]  # several masks: the first one's candidates
        if isinstance(output, list | tuple) and output and isinstance(output[0], Mapping):
            output = _best(output)
        if isinstance(output, Mapping) and "token_str" in output:
            return str(output["token_str"]).strip()
        return _text_of(output)
    if task in ("summarization", "text-generation", "image-to-text"):
        return _text_of(output)
    if task == "automatic-speech-recognition":
        return _text_of(output)
    if task in ("text-to-image", "text-to-video"):
        return None
    return output
