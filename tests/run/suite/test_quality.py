"""Quality metrics on hand-made answers whose scores are worked out by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genwatt.models.tasks.spec import QualityMetric
from genwatt.run.suite import quality
from genwatt.run.suite.quality import (
    QualityScore,
    accuracy,
    correct_count,
    entity_f1,
    exact_match,
    label_matches,
    prediction_of,
    rouge_l,
    score,
    squad_f1,
    top1,
    wer,
)


def test_every_metric_of_the_spec_is_scored() -> None:
    metrics = set(QualityMetric.__args__) - {"none"}
    assert metrics == set(quality.HIGHER_IS_BETTER)


# --- accuracy -------------------------------------------------------------------------


def test_accuracy_ignores_case_and_knows_the_datasets_label_names() -> None:
    predictions = ["POSITIVE", "negative", "POSITIVE", "NEGATIVE"]
    references = ["positive", "NEGATIVE", "pos", "pos"]  # IMDB calls them pos/neg
    assert accuracy(predictions, references) == 0.75


def test_a_classifier_label_must_match_exactly() -> None:
    assert not label_matches("cat", "tabby cat")
    assert not label_matches("LABEL_1", "positive")


def test_generated_text_gives_the_label_it_contains() -> None:
    assert label_matches("Positive.", "positive")
    assert label_matches("the review is positive", "positive")
    assert not label_matches("the review is negative", "positive")
    # With the label set, the label named first is the answer.
    labels = ["positive", "negative"]
    assert label_matches("negative, not positive", "negative", labels)
    assert not label_matches("negative, not positive", "positive", labels)
    assert not label_matches("no idea at all", "positive", labels)


# --- SQuAD -----------------------------------------------------------------------------


def test_squad_exact_match_and_f1_as_the_official_script() -> None:
    # Articles and punctuation go; the best of several answers counts.
    assert exact_match(["The Eiffel Tower."], [("Eiffel Tower",)]) == 1.0
    assert squad_f1(["Eiffel"], [("Eiffel Tower",)]) == pytest.approx(2 / 3)
    assert squad_f1(["in Paris"], [("Paris, France", "in Paris")]) == 1.0
    # "the big red dog" vs "a red dog": 2 shared of 3 and 2 tokens -> P 2/3, R 1 -> 0.8
    assert squad_f1(["the big red dog"], [("a red dog",)]) == pytest.approx(0.8)
    assert squad_f1(["cat"], [("dog",)]) == 0.0


def test_squad_unanswerable_needs_an_empty_answer() -> None:
    assert exact_match([""], [()]) == 1.0
    assert squad_f1(["somewhere"], [()]) == 0.0
    # SQuAD's own answers shape works as a reference too.
    assert exact_match(["1876"], [{"text": ["1876", "in 1876"], "answer_start": [3, 0]}]) == 1.0


# --- entities --------------------------------------------------------------------------


def test_entity_f1_over_type_and_text_pairs() -> None:
    predictions = [(("PER", "John Smith"), ("LOC", "Paris")), (("ORG", "ACME"),)]
    references = [(("PER", "john smith"), ("ORG", "Paris")), (("ORG", "ACME"), ("LOC", "Rome"))]
    # 2 hits, 3 predicted, 4 expected: P 2/3, R 1/2 -> F1 4/7.
    assert entity_f1(predictions, references) == pytest.approx(4 / 7)
    assert entity_f1([()], [()]) == 1.0
    assert correct_count("entity-f1", predictions, references) == 0
    assert correct_count("entity-f1", predictions[:1], [predictions[0]]) == 1


def test_entities_from_an_unaggregated_pipeline_output() -> None:
    output = [
        {"entity": "B-PER", "word": "John", "index": 1, "score": 0.9},
        {"entity": "I-PER", "word": "Sm", "index": 2, "score": 0.9},
        {"entity": "I-PER", "word": "##ith", "index": 3, "score": 0.9},
        {"entity": "B-PER", "word": "Mary", "index": 4, "score": 0.9},
        {"entity": "I-LOC", "word": "Paris", "index": 7, "score": 0.9},
    ]
    assert prediction_of("token-classification", output) == (
        ("PER", "John Smith"),
        ("PER", "Mary"),
        ("LOC", "Paris"),
    )
    grouped = [{"entity_group": "ORG", "word": "Hugging Face", "score": 0.9, "start": 0}]
    assert prediction_of("token-classification", grouped) == (("ORG", "Hugging Face"),)


# --- top-1, ROUGE-L, WER ----------------------------------------------------------------


def test_fill_mask_top_token() -> None:
    output = [
        {"score": 0.1, "token_str": " cat", "token": 5},
        {"score": 0.6, "token_str": " Dog", "token": 7},
    ]
    predicted = prediction_of("fill-mask", output)
    assert predicted == "Dog"
    assert top1([predicted, "x"], ["dog", "y"]) == 0.5


def test_rouge_l_by_hand() -> None:
    # LCS of "the cat sat on the mat" / "the cat is on the mat" is 5 of 6 words each.
    assert rouge_l(["The cat sat on the mat."], ["the cat is on the mat"]) == pytest.approx(5 / 6)
    # LCS 2 ("a c"): P 2/3, R 2/4 -> 4/7.
    assert rouge_l(["a b c"], ["a x c y"]) == pytest.approx(4 / 7)
    assert rouge_l(["nothing shared"], ["other words"]) == 0.0
    assert correct_count("rouge-l", ["a"], ["a"]) is None


def test_wer_over_the_corpus() -> None:
    assert wer(["Hello, World!"], ["hello world"]) == 0.0
    # one insertion in 3 words, one substitution in 2: 2 errors over 5 words.
    assert wer(["the cat sat down", "hello word"], ["the cat sat", "hello world"]) == 0.4
    assert wer(["don't stop"], ["do not stop"]) == pytest.approx(2 / 3)
    assert correct_count("wer", ["a b", "a c"], ["a b", "a b"]) == 1
    with pytest.raises(ValueError, match="reference word"):
        wer(["words"], [""])


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=12))
def test_a_perfect_answer_scores_perfectly(words: list[str]) -> None:
    text = " ".join(words)
    assert wer([text], [text]) == 0.0
    assert rouge_l([text], [text]) == 1.0
    assert squad_f1([text], [(text,)]) == 1.0


@given(
    st.lists(st.sampled_from(["a", "b", "c"]), max_size=10),
    st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=10),
)
def test_wer_is_bounded_by_the_longer_side(hyp: list[str], ref: list[str]) -> None:
    value = wer([" ".join(hyp)], [" ".join(ref)])
    assert abs(len(hyp) - len(ref)) / len(ref) <= value <= max(len(hyp), len(ref)) / len(ref)
    assert 0.0 <= rouge_l([" ".join(hyp)], [" ".join(ref)]) <= 1.0


# --- score() ----------------------------------------------------------------------------


def test_score_skips_unlabelled_queries_and_counts_correct_answers() -> None:
    result = score("accuracy", ["POSITIVE", "NEGATIVE", "POSITIVE"], ["positive", None, "neg"])
    assert result == QualityScore("accuracy", 0.5, 2, True, correct=1)
    asr = score("wer", ["a b c"], ["a b d"])
    assert asr.value == pytest.approx(1 / 3) and not asr.higher_is_better and asr.correct == 0
    qa = score("squad-f1", ["Eiffel", "Paris"], [("Eiffel Tower",), ("Paris",)])
    assert qa.value == pytest.approx((2 / 3 + 1) / 2) and qa.correct == 1


def test_score_rejects_what_cannot_be_scored() -> None:
    with pytest.raises(ValueError, match="Unknown quality metric"):
        score("bleu", ["a"], ["a"])
    with pytest.raises(ValueError, match="2 predictions for 1"):
        score("top1", ["a", "b"], ["a"])
    with pytest.raises(ValueError, match="No query has a reference"):
        score("top1", ["a"], [None])


# --- prediction_of --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "output", "expected"),
    [
        ("text-classification", [{"label": "POSITIVE", "score": 0.9}], "POSITIVE"),
        ("text-classification", {"label": "NEGATIVE", "score": 0.7}, "NEGATIVE"),
        (
            "text-classification",  # top_k=None: every label, best not first
            [{"label": "NEGATIVE", "score": 0.2}, {"label": "POSITIVE", "score": 0.8}],
            "POSITIVE",
        ),
        ("text-classification", [{"generated_text": " positive"}], "positive"),  # T5
        ("image-classification", [{"label": "tabby, tabby cat", "score": 0.5}], "tabby, tabby cat"),
        ("question-answering", {"answer": " Paris ", "score": 0.5, "start": 3, "end": 9}, "Paris"),
        (
            "question-answering",
            [{"answer": "Rome", "score": 0.1}, {"answer": "Paris", "score": 0.6}],
            "Paris",
        ),
        ("question-answering", [{"generated_text": "Paris"}], "Paris"),  # multi-purpose
        ("summarization", [{"summary_text": "A short one."}], "A short one."),
        ("summarization", {"generated_text": "Another."}, "Another."),
        ("text-generation", [{"generated_text": " and then"}], "and then"),
        ("image-to-text", [{"generated_text": "a cat on a mat"}], "a cat on a mat"),
        ("automatic-speech-recognition", {"text": " hello world"}, "hello world"),
        (
            "fill-mask",
            [[{"score": 0.9, "token_str": "a"}], [{"score": 0.9, "token_str": "b"}]],
            "a",
        ),
        ("text-to-image", object(), None),
    ],
)
def test_prediction_of_each_pipeline_output(task: str, output: object, expected: object) -> None:
    assert prediction_of(task, output) == expected
