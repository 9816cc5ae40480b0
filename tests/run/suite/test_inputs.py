"""The built-in workload: deterministic, lazy, sized as the anchors' datasets say."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from genwatt.errors import ConfigError
from genwatt.models.tasks.catalog import TASKS
from genwatt.models.tasks.workloads import TOKENS_PER_WORD, WORKLOAD_STATS, workload_summary
from genwatt.models.tokenizer import plain_tokens
from genwatt.run.suite.inputs import (
    SAMPLING_RATE_HZ,
    VIDEO_PROMPTS,
    QuerySequence,
    builtin_queries,
    count_word_tokens,
)
from genwatt.run.suite.query import MASK_PLACEHOLDER, Query

TEXT_TASKS = [t for t, spec in TASKS.items() if spec.inputs not in ("image", "audio")]


def _same(a: Query, b: Query) -> bool:
    if a.image is not None:
        return a.image.size == b.image.size and a.image.tobytes() == b.image.tobytes()
    if a.audio is not None:
        return np.array_equal(a.audio, b.audio)
    return a == b


@pytest.mark.parametrize("task", list(TASKS))
def test_same_seed_same_queries_other_seed_others(task: str) -> None:
    first = builtin_queries(task, 12, seed=3)
    again = builtin_queries(task, 12, seed=3)
    other = builtin_queries(task, 12, seed=4)
    assert len(first) == 12
    assert all(_same(a, b) for a, b in zip(first, again, strict=True))
    assert not all(_same(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("task", list(TASKS))
def test_a_query_depends_on_its_index_only(task: str) -> None:
    """The first ten of 1,000 queries are the ten of ten; indexing and slicing agree."""
    many = builtin_queries(task, 1000, seed=1)
    few = builtin_queries(task, 10, seed=1)
    assert all(_same(many[i], few[i]) for i in range(10))
    assert _same(many[-1], many[999])
    window = many[5:8]
    assert isinstance(window, QuerySequence) and len(window) == 3
    assert _same(window[0], many[5])


@pytest.mark.parametrize("task", list(TASKS))
def test_queries_fill_the_fields_their_task_takes(task: str) -> None:
    kind = TASKS[task].inputs
    for query in builtin_queries(task, 9):
        assert query.size is not None and query.size > 0
        if kind == "image":
            assert query.image.mode == "RGB"
            assert query.size == query.image.width * query.image.height
            assert query.size_unit == "pixels"
        elif kind == "audio":
            assert query.audio.dtype == np.float32 and query.audio.ndim == 1
            assert query.sampling_rate == SAMPLING_RATE_HZ
            assert query.size == pytest.approx(len(query.audio) / SAMPLING_RATE_HZ)
            assert 0 < np.abs(query.audio).max() <= 0.1
        elif kind == "question-context":
            assert query.question.endswith("?") and query.context
            assert query.text is None
        elif kind == "sentence-pair":
            assert query.text and query.text_pair
        else:
            assert query.text
        # Noise has no sentiment, entities or transcript: only fill-mask knows its answer.
        assert (query.label is not None) == (kind == "masked-text")


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_texts_have_exactly_the_drawn_tokens(task: str) -> None:
    """The size drawn is what the built-in word-level tokenizer sees, unknown words none."""
    pytest.importorskip("tokenizers")
    pytest.importorskip("transformers")
    from genwatt.models.tasks.text_tokenizer import build_scheme_tokenizer
    from genwatt.models.tasks.tokenizer_schemes import BERT

    tokenizer = build_scheme_tokenizer(BERT)
    for query in builtin_queries(task, 40, seed=2):
        parts = [query.text, query.text_pair, query.question, query.context]
        ids: list[int] = []
        for part in filter(None, parts):
            part = part.replace(MASK_PLACEHOLDER, tokenizer.mask_token)
            ids += tokenizer(part, add_special_tokens=False)["input_ids"]
        assert len(ids) == query.size
        if task != "text-to-video":  # the video prompts are the study's own words
            assert tokenizer.unk_token_id not in ids


def test_fill_mask_hides_one_known_word() -> None:
    words = set(plain_tokens())
    for query in builtin_queries("fill-mask", 50):
        assert query.text.count(MASK_PLACEHOLDER) == 1
        assert query.label in words and query.label.isalpha()
        assert count_word_tokens(query.text) == query.size


def test_text_classification_mixes_its_three_datasets_as_cited() -> None:
    """Query i comes from dataset i mod 3; each third has its dataset's mean length."""
    stats = WORKLOAD_STATS["text-classification"]
    assert stats.dataset_names == ("IMDB", "SST-2", "Rotten Tomatoes")
    sizes = np.array([q.size for q in builtin_queries("text-classification", 1200)])
    imdb, sst2, tomatoes = sizes[0::3], sizes[1::3], sizes[2::3]
    # word counts of the datasets, in subword tokens (4/3 a word)
    assert imdb.mean() == pytest.approx(230 * TOKENS_PER_WORD, rel=0.12)
    assert np.median(imdb) == pytest.approx(174 * TOKENS_PER_WORD, rel=0.15)  # the long tail
    assert sst2.mean() == pytest.approx(19 * TOKENS_PER_WORD, rel=0.08)  # Kim 2014, Table 1
    assert tomatoes.mean() == pytest.approx(20 * TOKENS_PER_WORD, rel=0.08)
    assert imdb.max() <= 2470 * TOKENS_PER_WORD + 1 and sst2.max() <= 56 * TOKENS_PER_WORD + 1


@pytest.mark.parametrize(
    ("task", "mean", "rel"),
    [
        ("token-classification", 13.6, 0.1),  # CoNLL-2003
        ("question-answering", 130, 0.1),  # SQuAD: 10-word questions, 120-word contexts
        ("fill-mask", 13, 0.1),  # BookCorpus sentences
        ("sentence-similarity", 20, 0.08),  # STS-B: two sentences of about 10 words
        ("summarization", (781 + 94 + 431) / 3, 0.1),  # CNN/DailyMail, SAMSum, XSum
        ("automatic-speech-recognition", 7.42, 0.08),  # LibriSpeech test-clean
        ("text-to-image", 10.5, 0.05),  # COCO captions
    ],
)
def test_mean_sizes_follow_the_anchor_figures(task: str, mean: float, rel: float) -> None:
    sizes = [q.size for q in builtin_queries(task, 600, seed=5)]
    scale = TOKENS_PER_WORD if WORKLOAD_STATS[task].unit == "tokens" else 1.0
    assert np.mean(sizes) == pytest.approx(mean * scale, rel=rel)


def test_speech_clips_stay_in_librispeech_range() -> None:
    durations = [q.size for q in builtin_queries("automatic-speech-recognition", 300)]
    assert min(durations) >= 1.285 and max(durations) <= 34.955


def test_coco_images_are_640_on_the_long_side() -> None:
    for task in ("object-detection", "image-to-text"):
        sides = [q.image.size for q in builtin_queries(task, 40)]
        assert all(max(s) == 640 for s in sides)
        assert any(w < h for w, h in sides) and any(w > h for w, h in sides)
        short = [min(s) for s in sides]
        assert np.mean(short) == pytest.approx(470, rel=0.06)


def test_image_classification_mixes_imagenet_and_cifar() -> None:
    sizes = [q.image.size for q in builtin_queries("image-classification", 60)]
    assert all(s == (32, 32) for s in sizes[1::3] + sizes[2::3])  # CIFAR-10, CIFAR-100
    imagenet = np.array(sizes[0::3])
    assert imagenet.max(axis=1).mean() == pytest.approx(400, rel=0.15)


def test_video_prompts_are_the_studys_49_in_a_seeded_order() -> None:
    first = [q.text for q in builtin_queries("text-to-video", 49, seed=0)]
    assert sorted(first) == sorted(VIDEO_PROMPTS) and len(VIDEO_PROMPTS) == 49
    assert first != [q.text for q in builtin_queries("text-to-video", 49, seed=1)]
    assert [q.text for q in builtin_queries("text-to-video", 50)][49] == first[0]


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_a_thousand_text_queries_in_well_under_two_seconds(task: str) -> None:
    start = time.perf_counter()
    total = sum(q.size for q in builtin_queries(task, 1000))
    assert total > 0
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("task", ["object-detection", "automatic-speech-recognition"])
def test_media_queries_are_made_on_access(task: str) -> None:
    """Asking for 1,000 COCO images costs nothing until each is used (about 1-2 ms)."""
    start = time.perf_counter()
    queries = builtin_queries(task, 1000)
    assert time.perf_counter() - start < 0.05
    start = time.perf_counter()
    for query in queries[:200]:
        assert query.size > 0
    assert time.perf_counter() - start < 2.0  # 200 of them: 1,000 in well under 10 s


def test_every_task_has_cited_stats_naming_its_anchor_datasets() -> None:
    assert set(WORKLOAD_STATS) == set(TASKS)
    for task, stats in WORKLOAD_STATS.items():
        assert stats.unit in ("tokens", "pixels", "seconds")
        for anchor in stats.anchors:
            assert anchor.source
            assert anchor.dataset in TASKS[task].anchor_datasets
        lines = stats.describe()
        assert all(name in "\n".join(lines) for name in stats.dataset_names)
        json.dumps(workload_summary(task))


def test_built_in_media_feed_the_real_processors() -> None:
    pytest.importorskip("transformers")
    from transformers import ViTImageProcessor, WhisperFeatureExtractor

    image = builtin_queries("object-detection", 1)[0].image
    pixels = ViTImageProcessor()(image, return_tensors="np")["pixel_values"]
    assert pixels.shape == (1, 3, 224, 224)
    clip = builtin_queries("automatic-speech-recognition", 1)[0]
    features = WhisperFeatureExtractor()(
        clip.audio, sampling_rate=clip.sampling_rate, return_tensors="np"
    )["input_features"]
    assert features.shape == (1, 80, 3000)


def test_bad_task_or_count_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Unknown task"):
        builtin_queries("text-classificaton", 3)
    with pytest.raises(ConfigError, match="0 or more"):
        builtin_queries("fill-mask", -1)
    assert len(builtin_queries("fill-mask", 0)) == 0


def test_ai_energy_score_draws_from_its_own_datasets_where_they_differ() -> None:
    """Food-101 and Beans replace CIFAR under AI Energy Score; other protocols and the
    tasks it shares datasets for keep the default mix."""
    aies = builtin_queries("image-classification", 60, 0, "ai-energy-score")
    sizes = [q.image.size for q in aies]
    assert all(s == (500, 500) for s in sizes[2::3])  # Beans
    assert all(max(s) == 512 for s in sizes[1::3])  # Food-101, at most 512 on the long side
    php = builtin_queries("image-classification", 60, 0, "power-hungry-processing")
    assert [q.image.size for q in php] == [
        q.image.size for q in builtin_queries("image-classification", 60)
    ]
    qa = [q.context for q in builtin_queries("question-answering", 9, 0, "ai-energy-score")]
    assert qa == [q.context for q in builtin_queries("question-answering", 9)]


def test_every_protocol_mix_is_cited_and_names_the_protocols_datasets() -> None:
    from genwatt.models.tasks.workloads import PROTOCOL_WORKLOADS

    protocol_doc = {
        "ai-energy-score": ("Tweet Eval", "Yelp", "ArXiv", "UltraChat", "Food-101", "Beans")
    }
    for protocol, mixes in PROTOCOL_WORKLOADS.items():
        named = {a.dataset for stats in mixes.values() for a in stats.anchors}
        assert set(protocol_doc[protocol]) <= named
        for task, stats in mixes.items():
            assert stats.task == task and stats.unit == WORKLOAD_STATS[task].unit
            assert all(anchor.source for anchor in stats.anchors)
            json.dumps(workload_summary(task, protocol))
