"""The suite's built-in offline workload: queries whose sizes follow the anchor datasets.

Energy per query depends on how big a query is (tokens, pixels, seconds of audio), not
on what it says, so each task's built-in workload draws query sizes from the datasets
that Power Hungry Processing (Luccioni et al. 2024) and AI Energy Score drew their
1,000 queries from, and fills them with random content. Where an anchor takes its
queries from three datasets in equal shares, so does this: query ``i`` comes from
dataset ``i mod 3``, so any 1,000 queries hold each within one.

Text is drawn from the built-in word list (``genwatt.models.tokenizer.plain_tokens``,
words only) with a "." ending each sentence, so the built-in word-level tokenizer sees
exactly the number of tokens drawn: a "token" here is a word or a sentence end. The
anchors' lengths are word counts and real subword tokenizers cut English into about 4/3
tokens a word, so a text of ``n`` words is drawn as ``4n/3`` built-in tokens: the model
sees as many positions as it would on the real text. Images are random-noise RGB at
drawn sizes, audio is low-level white noise at 16 kHz with drawn durations. Built-in
queries carry no labels except fill-mask's masked word: noise has no sentiment,
entities or transcript, so quality is only scored on user data (``genwatt.run.suite.user_data``).

Lengths are drawn log-normal with the stated mean (the ``spread`` is the sigma of the
logarithm), then clipped to the stated range; a figure marked approximate is one whose
exact value was not at hand, with the reason beside it. Texts longer than a model's
maximum input (IMDB's tail, CNN/DailyMail's longer articles) are not cut here: the
model's tokenizer truncates them, as the anchors' pipelines did.

Memory: a sequence of queries is lazy. ``builtin_queries`` returns a ``QuerySequence``
that makes query ``i`` when it is asked for, from ``(seed, task, i)`` alone, so 1,000
COCO-sized images (900 MB as pixels) never sit in memory together, the same index
always gives the same query, and the first ten of 1,000 queries are the ten of ten.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from genwatt.errors import ConfigError
from genwatt.models.tasks.catalog import get_task
from genwatt.models.tokenizer import plain_tokens
from genwatt.run.suite.query import MASK_PLACEHOLDER, Query

# The sampling rate of the built-in clips: what Whisper's and wav2vec2's feature
# extractors take.
SAMPLING_RATE_HZ = 16_000

# The words the built-in texts are made of (no punctuation, no digits).
_WORDS: tuple[str, ...] = tuple(t for t in plain_tokens() if t.isalpha())

# Subword tokens per English word: "100 tokens ~= 75 words" (OpenAI, "What are tokens
# and how to count them", help.openai.com), about what BERT's WordPiece and GPT-2's BPE
# give on English prose. The anchors' lengths are in words; their models saw tokens.
TOKENS_PER_WORD = 4 / 3

# What the built-in tokenizers' whitespace pre-tokenizer splits a text into.
_TOKEN_RE = re.compile(r"\w+|[^\w\s]+")


def count_word_tokens(text: str) -> int:
    """Tokens of ``text`` under the built-in word-level tokenizers (a masked word is one)."""
    return len(_TOKEN_RE.findall(text.replace(MASK_PLACEHOLDER, " mask ")))


@dataclass(frozen=True)
class Lengths:
    """A length (tokens, pixels on one side, or seconds) drawn log-normal, then clipped."""

    mean: float
    spread: float  # sigma of the logarithm; 0 draws the mean every time
    low: float
    high: float

    def draw(self, rng: np.random.Generator) -> float:
        if self.spread == 0:
            return self.mean
        mu = np.log(self.mean) - self.spread**2 / 2  # so that the unclipped mean is ``mean``
        return float(np.clip(rng.lognormal(mu, self.spread), self.low, self.high))


@dataclass(frozen=True)
class AnchorSizes:
    """The sizes of one anchor dataset's queries: a ``Lengths`` per part of a query.

    Parts: ``text``, ``question``, ``context``, ``text_pair`` (tokens); ``long_side``
    and ``short_side`` (pixels, with ``portrait`` the share of images taller than wide);
    ``duration_s`` (seconds).
    """

    dataset: str
    parts: dict[str, Lengths]
    source: str
    approximate: str = ""  # why a figure is approximate; empty when all are cited
    portrait: float = 0.0


@dataclass(frozen=True)
class WorkloadStats:
    """A task's built-in workload: the anchor datasets it mixes in equal shares."""

    task: str
    unit: str  # of ``Query.size``: "tokens", "pixels" or "seconds"
    anchors: tuple[AnchorSizes, ...]
    note: str = ""

    def describe(self) -> list[str]:
        """One line per anchor and part, for ``genwatt tasks`` and the docs."""
        share = f"1/{len(self.anchors)} each" if len(self.anchors) > 1 else "all"
        lines = [f"{self.task}: {share} of the queries from {', '.join(self.dataset_names)}"]
        for anchor in self.anchors:
            parts = ", ".join(
                f"{name} mean {lengths.mean:g} (range {lengths.low:g}-{lengths.high:g})"
                for name, lengths in anchor.parts.items()
            )
            approx = f"; approximate: {anchor.approximate}" if anchor.approximate else ""
            lines.append(f"  {anchor.dataset}: {parts} [{anchor.source}{approx}]")
        if self.note:
            lines.append(f"  {self.note}")
        return lines

    @property
    def dataset_names(self) -> tuple[str, ...]:
        return tuple(a.dataset for a in self.anchors)


_KIM_2014 = (
    'Kim 2014, "Convolutional Neural Networks for Sentence Classification", Table 1 '
    "(average sentence length in tokens)"
)
_COCO_SIDES = {
    "long_side": Lengths(640, 0.0, 640, 640),
    "short_side": Lengths(470, 0.12, 240, 640),
}
_COCO_SOURCE = "COCO images are Flickr photos at most 640 px on the long side (Lin et al. 2014)"
_COCO_APPROX = (
    "the short side's mean (about 470 px, 640x480 the commonest shape) and portrait share"
)
_COCO_CAPTIONS = AnchorSizes(
    "COCO 2014 captions",
    {"text": Lengths(10.5, 0.2, 8, 50)},
    'Chen et al. 2015, "Microsoft COCO Captions", arXiv 1504.00325: 10.5 words a caption',
    "the spread and range (the collection asked for at least 8 words)",
)

WORKLOAD_STATS: dict[str, WorkloadStats] = {
    s.task: s
    for s in (
        WorkloadStats(
            "text-classification",
            "tokens",
            (
                AnchorSizes(
                    "IMDB",
                    {"text": Lengths(230, 0.75, 10, 2470)},
                    "Maas et al. 2011, 50,000 movie reviews",
                    "mean about 230 words, median about 174, longest about 2,470, as word "
                    "counts of the reviews are commonly reported; the paper gives none",
                ),
                AnchorSizes(
                    "SST-2",
                    {"text": Lengths(19, 0.45, 2, 56)},
                    _KIM_2014 + ": SST-2 19",
                    "the spread and the longest sentence (about 56 tokens)",
                ),
                AnchorSizes(
                    "Rotten Tomatoes",
                    {"text": Lengths(20, 0.45, 2, 60)},
                    _KIM_2014 + ": MR (Rotten Tomatoes sentence polarity) 20",
                    "the spread and the longest sentence",
                ),
            ),
        ),
        WorkloadStats(
            "token-classification",
            "tokens",
            (
                AnchorSizes(
                    "CoNLL-2003",
                    {"text": Lengths(13.6, 0.7, 2, 124)},
                    "Tjong Kim Sang and De Meulder 2003, Table 1: 203,621 tokens in 14,987 "
                    "English training sentences",
                    "the spread (headlines and score lines make many sentences short)",
                ),
            ),
            note="WikiANN and ReCoRD are not mixed in: their length figures were not at hand.",
        ),
        WorkloadStats(
            "question-answering",
            "tokens",
            (
                AnchorSizes(
                    "SQuAD",
                    {
                        "question": Lengths(10, 0.3, 3, 40),
                        "context": Lengths(120, 0.45, 20, 650),
                    },
                    "Rajpurkar et al. 2016, SQuAD v1.1 (SQuAD v2 keeps its paragraphs)",
                    "contexts of about 120 words and questions of about 10 are the figures "
                    "commonly reported (117-137 words for contexts depending on the "
                    "tokenisation); the spreads and ranges are estimates",
                ),
            ),
            note="SQuAD v2 and SciQ are taken to be SQuAD-like in size.",
        ),
        WorkloadStats(
            "fill-mask",
            "tokens",
            (
                AnchorSizes(
                    "BookCorpus",
                    {"text": Lengths(13, 0.58, 3, 100)},
                    'Zhu et al. 2015, "Aligning Books and Movies", Table 2: mean 13 words a '
                    "sentence, median 11 (the spread follows from the two)",
                    "the longest sentence",
                ),
            ),
            note="C4 and OSCAR are taken to be sentence-sized too; one word is masked.",
        ),
        WorkloadStats(
            "sentence-similarity",
            "tokens",
            (
                AnchorSizes(
                    "STS-B",
                    {"text": Lengths(10, 0.4, 2, 60), "text_pair": Lengths(10, 0.4, 2, 60)},
                    "Cer et al. 2017, STS Benchmark: news headlines, image captions and forum "
                    "posts",
                    "about 10 words a sentence, from the kinds of sentence it holds; no "
                    "published mean was at hand",
                ),
            ),
        ),
        WorkloadStats(
            "summarization",
            "tokens",
            (
                AnchorSizes(
                    "CNN/DailyMail",
                    {"text": Lengths(781, 0.5, 50, 2800)},
                    'See et al. 2017, "Get To The Point", section 4: articles of 781 tokens '
                    "on average (summaries 56)",
                    "the spread and range",
                ),
                AnchorSizes(
                    "SAMSum",
                    {"text": Lengths(94, 0.6, 10, 800)},
                    "Gliwa et al. 2019, SAMSum: messenger-like dialogues of 3-30 utterances",
                    "about 94 words a dialogue as commonly reported; not checked here",
                ),
                AnchorSizes(
                    "XSum",
                    {"text": Lengths(431, 0.6, 20, 3000)},
                    "Narayan et al. 2018, XSum, Table 1: documents of 431 words on average",
                    "the spread and range",
                ),
            ),
            note="The model's tokenizer truncates articles past its maximum input.",
        ),
        WorkloadStats(
            "text-generation",
            "tokens",
            (
                AnchorSizes(
                    "WikiText",
                    {"text": Lengths(130, 0.6, 10, 512)},
                    "Merity et al. 2016, WikiText-103: Wikipedia articles, one paragraph a row",
                    "about 130 words a paragraph, an estimate: no per-paragraph mean was at hand",
                ),
                AnchorSizes(
                    "BookCorpus",
                    {"text": Lengths(13, 0.58, 3, 100)},
                    "Zhu et al. 2015, Table 2: mean 13 words a sentence, median 11",
                    "the longest sentence",
                ),
                AnchorSizes(
                    "OSCAR",
                    {"text": Lengths(300, 0.8, 20, 512)},
                    "Ortiz Suarez et al. 2019, OSCAR: Common Crawl web documents",
                    "about 300 words a document, an estimate: no published mean was at hand",
                ),
            ),
            note=(
                "Prompts are capped at 512 tokens so that every registered model (GPT-2 "
                "has 1,024 positions) holds the prompt and the new tokens."
            ),
        ),
        WorkloadStats(
            "image-classification",
            "pixels",
            (
                AnchorSizes(
                    "ImageNet",
                    {
                        "long_side": Lengths(400, 0.2, 80, 2500),
                        "short_side": Lengths(350, 0.2, 60, 2000),
                    },
                    "Russakovsky et al. 2015, ILSVRC: Flickr photos of varying size",
                    "about 400x350 px on average, the commonly quoted figure (469x387 is also "
                    "quoted for the training set); the spreads are estimates",
                    portrait=0.2,
                ),
                AnchorSizes(
                    "CIFAR-10",
                    {"long_side": Lengths(32, 0.0, 32, 32), "short_side": Lengths(32, 0.0, 32, 32)},
                    "Krizhevsky 2009: 32x32 images",
                ),
                AnchorSizes(
                    "CIFAR-100",
                    {"long_side": Lengths(32, 0.0, 32, 32), "short_side": Lengths(32, 0.0, 32, 32)},
                    "Krizhevsky 2009: 32x32 images",
                ),
            ),
            note="The image processor resizes every image; size changes preprocessing only.",
        ),
        WorkloadStats(
            "object-detection",
            "pixels",
            (AnchorSizes("COCO 2017", _COCO_SIDES, _COCO_SOURCE, _COCO_APPROX, portrait=0.25),),
            note="Visual Genome and CPPE-5 are taken to be COCO-sized.",
        ),
        WorkloadStats(
            "image-to-text",
            "pixels",
            (AnchorSizes("COCO 2014", _COCO_SIDES, _COCO_SOURCE, _COCO_APPROX, portrait=0.25),),
            note="RedCaps and Visual Genome are taken to be COCO-sized.",
        ),
        WorkloadStats(
            "automatic-speech-recognition",
            "seconds",
            (
                AnchorSizes(
                    "LibriSpeech",
                    {"duration_s": Lengths(7.42, 0.6, 1.285, 34.955)},
                    "Panayotov et al. 2015, Table 1: test-clean holds 5.4 hours in 2,620 "
                    "utterances, 7.42 s on average; shortest 1.285 s, longest 34.955 s",
                    "the spread and the range (from the utterance durations as commonly "
                    "listed, not from the paper)",
                ),
            ),
            note="Common Voice and People's Speech clips are taken to be LibriSpeech-like.",
        ),
        WorkloadStats("text-to-image", "tokens", (_COCO_CAPTIONS,)),
        WorkloadStats(
            "text-to-video",
            "tokens",
            (
                AnchorSizes(
                    "the Video Killed the Energy Budget prompts",
                    {},
                    "Delavande, Pierrard and Luccioni 2025, arXiv 2509.19222: its 49 prompts, "
                    "verbatim (shared/reference/video_energy_budget/cross_model_h100.csv)",
                ),
            ),
            note="The 49 prompts in a seeded order, repeated past 49 queries.",
        ),
    )
}

# Delavande, Pierrard and Luccioni 2025 ("Video Killed the Energy Budget", arXiv
# 2509.19222): the 49 prompts every model of its cross-model comparison ran.
VIDEO_PROMPTS: tuple[str, ...] = (
    "A bakery filled with pastries and bread, with a baker decorating cakes.",
    "A ballerina dancing gracefully in an empty theater.",
    "A bustling cyberpunk street market at night, neon signs glowing, people in futuristic "
    "outfits walking past holographic displays.",
    "A caravan of camels crossing a desert at dusk.",
    "A chef making sushi in a busy restaurant kitchen.",
    "A child flying a kite on a windy beach.",
    "A choir singing in a candle-lit cathedral.",
    "A cowboy riding a horse across a desert with dust clouds trailing.",
    "A cozy cabin in the snow, with smoke rising from the chimney and aurora borealis above.",
    "A cozy library with a cat sleeping on a stack of books.",
    "A crystal-clear underwater scene with colorful fish and coral reefs.",
    "A deep-sea submarine exploring a glowing underwater cave.",
    "A dragon flying over a burning village.",
    "A fairy flying over a magical forest at night.",
    "A field of sunflowers swaying in the wind.",
    "A fisherman casting his net into a calm river at dawn.",
    "A forest path covered with autumn leaves, sunlight streaming through the branches.",
    "A fox running through a snowy forest.",
    "A futuristic city skyline seen from a flying car's window during sunset.",
    "A futuristic robot chef cooking a gourmet meal.",
    "A giant robot helping people rebuild a city after a storm.",
    "A glowing jellyfish drifting in the deep ocean.",
    "A group of penguins sliding on ice into the ocean.",
    "A hot air balloon festival with dozens of colorful balloons rising into the sky.",
    "A jazz band playing in a smoky 1920s club.",
    "A knight rescuing a princess from a tower.",
    "A lion walking majestically through the savannah at golden hour.",
    "A medieval blacksmith forging a sword, sparks flying as the hammer hits the metal.",
    "A medieval feast in a grand castle hall with music and dancing.",
    "A mountain climber reaching the summit and raising their arms in triumph.",
    "A night sky full of shooting stars over a quiet desert.",
    "A painter creating a colorful mural on a city wall.",
    "A panda eating bamboo in a misty forest.",
    "A rainforest canopy with monkeys and exotic birds.",
    "A samurai practicing sword techniques under a blooming cherry blossom tree.",
    "A serene mountain lake at sunrise, with mist rising from the water and birds flying "
    "across the sky.",
    "A snowstorm in a small village with people drinking hot cocoa inside.",
    "A spaceship docking at a massive space station orbiting Earth.",
    "A spaceship flying through an asteroid belt.",
    "A squirrel storing acorns in a tree for winter.",
    "A steampunk train traveling across a bridge above a canyon.",
    "A surfer riding a giant wave at sunset.",
    "A tea ceremony in a traditional Japanese house surrounded by bamboo.",
    "A time-lapse of flowers blooming in a lush garden.",
    "A tropical rainforest waterfall, with monkeys swinging through the trees.",
    "A vintage car driving through a rainy city street at night.",
    "A waterfall turning into glowing lava in a fantasy world.",
    "A wizard casting a fire spell in an ancient library.",
    "An astronaut planting a flag on a glowing alien planet with two moons in the sky.",
)


class QuerySequence(Sequence[Query]):
    """Queries made on access by ``make(index)``, over a range of indices; a slice is
    such a sequence too.

    Nothing is cached: each access makes its query afresh, so an image or a clip lives
    only as long as the caller holds it.
    """

    def __init__(self, make: Callable[[int], Query], indices: range) -> None:
        self._make = make
        self._indices = indices

    def __len__(self) -> int:
        return len(self._indices)

    @overload
    def __getitem__(self, index: int) -> Query: ...
    @overload
    def __getitem__(self, index: slice) -> QuerySequence: ...
    def __getitem__(self, index: int | slice) -> Query | QuerySequence:
        if isinstance(index, slice):
            return QuerySequence(self._make, self._indices[index])
        return self._make(self._indices[index])

    def __iter__(self) -> Iterator[Query]:
        for i in self._indices:
            yield self._make(i)

    def __repr__(self) -> str:
        return f"QuerySequence({len(self)} queries)"


def builtin_queries(task: str, count: int, seed: int = 0) -> QuerySequence:
    """``count`` built-in queries of ``task``, the same for the same seed, made on access.

    Query ``i`` depends on ``(seed, task, i)`` only. Sizes follow ``WORKLOAD_STATS``.
    """
    spec = get_task(task)
    if count < 0:
        raise ConfigError(f"The number of queries must be 0 or more, not {count}.")
    stats = WORKLOAD_STATS[spec.name]
    salt = zlib.crc32(spec.name.encode())
    if spec.name == "text-to-video":
        return _video_queries(count, np.random.default_rng((seed, salt)))
    maker = _MAKERS[spec.inputs]

    def make(index: int) -> Query:
        rng = np.random.default_rng((seed, salt, index))
        return maker(rng, stats.anchors[index % len(stats.anchors)])

    return QuerySequence(make, range(count))


def _video_queries(count: int, rng: np.random.Generator) -> QuerySequence:
    """The 49 prompts of the video study in a seeded order, repeated past 49."""
    order = rng.permutation(len(VIDEO_PROMPTS))

    def make(index: int) -> Query:
        text = VIDEO_PROMPTS[order[index % len(order)]]
        return Query(text=text, size=count_word_tokens(text), size_unit="tokens")

    return QuerySequence(make, range(count))


# --- makers: one per input kind ------------------------------------------------------


def _tokens(lengths: Lengths, rng: np.random.Generator) -> int:
    """Built-in tokens for a text whose length the anchors give in words: as many as a
    real subword tokenizer would cut it into (``TOKENS_PER_WORD``)."""
    return max(1, round(lengths.draw(rng) * TOKENS_PER_WORD))


def _words(rng: np.random.Generator, n_tokens: int) -> list[str]:
    """``n_tokens`` tokens: words in sentences of 8-25 words, each closed by a ".".

    The last token is a word when the count leaves no room for a "." after it.
    """
    picks = rng.integers(len(_WORDS), size=n_tokens)
    out: list[str] = []
    start = 0
    while start < n_tokens:
        sentence = int(rng.integers(8, 26))
        body = min(sentence, n_tokens - start - 1) if n_tokens - start > 1 else 1
        words = [_WORDS[k] for k in picks[start : start + body]]
        words[0] = words[0].capitalize()
        out.extend(words)
        start += body
        if start < n_tokens:
            out.append(".")
            start += 1
    return out


def _join(tokens: list[str]) -> str:
    """Words with spaces, sentence ends attached to the word before them."""
    return " ".join(tokens).replace(" .", ".").replace(" ?", "?")


def _make_text(rng: np.random.Generator, anchor: AnchorSizes) -> Query:
    n = _tokens(anchor.parts["text"], rng)
    return Query(text=_join(_words(rng, n)), size=n, size_unit="tokens")


def _make_pair(rng: np.random.Generator, anchor: AnchorSizes) -> Query:
    n_a = _tokens(anchor.parts["text"], rng)
    n_b = _tokens(anchor.parts["text_pair"], rng)
    text = _join(_words(rng, n_a))
    pair = _join(_words(rng, n_b))
    return Query(text=text, text_pair=pair, size=n_a + n_b, size_unit="tokens")


def _make_question_context(rng: np.random.Generator, anchor: AnchorSizes) -> Query:
    n_q = max(2, _tokens(anchor.parts["question"], rng))
    n_c = _tokens(anchor.parts["context"], rng)
    words = [_WORDS[k] for k in rng.integers(len(_WORDS), size=n_q - 1)]
    question = _join([words[0].capitalize(), *words[1:], "?"])  # one sentence, "?" closing it
    context = _join(_words(rng, n_c))
    return Query(question=question, context=context, size=n_q + n_c, size_unit="tokens")


def _make_masked(rng: np.random.Generator, anchor: AnchorSizes) -> Query:
    n = max(2, _tokens(anchor.parts["text"], rng))
    tokens = _words(rng, n)
    positions = [i for i, t in enumerate(tokens) if t not in (".", "?")]
    at = positions[int(rng.integers(len(positions)))]
    label = tokens[at].lower()
    tokens[at] = MASK_PLACEHOLDER
    return Query(text=_join(tokens), label=label, size=n, size_unit="tokens")


def _noise_bytes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random bytes, straight from the bit generator (the fastest numpy draw)."""
    return rng.bit_generator.random_raw(-(-n // 8)).view(np.uint8)[:n]


def _make_image(rng: np.random.Generator, anchor: AnchorSizes) -> Query:
    from PIL import Image

    long_side = round(anchor.parts["long_side"].draw(rng))
    short_side = min(long_side, round(anchor.parts["short_side"].draw(rng)))
    portrait = anchor.portrait > 0 and rng.random() < anchor.portrait
    width, height = (short_side, long_side) if portrait else (long_side, short_side)
    pixels = _noise_bytes(rng, width * height * 3).reshape(height, width, 3)
    image = Image.fromarray(pixels, "RGB")
    return Query(image=image, size=width * height, size_unit="pixels")


def _make_audio(rng: np.random.Generator, anchor: AnchorSizes) -> Query:
    duration_s = anchor.parts["duration_s"].draw(rng)
    samples = round(duration_s * SAMPLING_RATE_HZ)
    # Uniform noise at about -20 dBFS (peak 0.1), from raw 16-bit draws: three times
    # faster than normal draws, and the feature extractors do not care which noise it is.
    audio = _noise_bytes(rng, 2 * samples).view(np.int16).astype(np.float32)
    audio *= np.float32(0.1 / 32768)
    return Query(
        audio=audio,
        sampling_rate=SAMPLING_RATE_HZ,
        size=samples / SAMPLING_RATE_HZ,
        size_unit="seconds",
    )


_MAKERS: dict[str, Callable[[np.random.Generator, AnchorSizes], Query]] = {
    "text": _make_text,
    "sentence-pair": _make_pair,
    "question-context": _make_question_context,
    "masked-text": _make_masked,
    "image": _make_image,
    "audio": _make_audio,
    "prompt": _make_text,
}


def workload_summary(task: str) -> dict[str, Any]:
    """The built-in workload of ``task`` as plain data (for ``--json`` listings)."""
    stats = WORKLOAD_STATS[get_task(task).name]
    return {
        "task": stats.task,
        "unit": stats.unit,
        "note": stats.note,
        "anchors": [
            {
                "dataset": a.dataset,
                "parts": {k: vars(v) for k, v in a.parts.items()},
                "source": a.source,
                "approximate": a.approximate or None,
            }
            for a in stats.anchors
        ],
    }
