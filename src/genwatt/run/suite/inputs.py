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
from typing import overload

import numpy as np

from genwatt.errors import ConfigError
from genwatt.models.tasks.catalog import get_task
from genwatt.models.tasks.workloads import (
    TOKENS_PER_WORD,
    AnchorSizes,
    Lengths,
    workload_stats,
)
from genwatt.models.tokenizer import plain_tokens
from genwatt.run.suite.query import MASK_PLACEHOLDER, Query

# The sampling rate of the built-in clips: what Whisper's and wav2vec2's feature
# extractors take.
SAMPLING_RATE_HZ = 16_000

# The words the built-in texts are made of (no punctuation, no digits).
_WORDS: tuple[str, ...] = tuple(t for t in plain_tokens() if t.isalpha())


# What the built-in tokenizers' whitespace pre-tokenizer splits a text into.
_TOKEN_RE = re.compile(r"\w+|[^\w\s]+")


def draw(lengths: Lengths, rng: np.random.Generator) -> float:
    """A length drawn log-normal with ``lengths``' mean and spread, then clipped."""
    if lengths.spread == 0:
        return lengths.mean
    mu = np.log(lengths.mean) - lengths.spread**2 / 2  # so that the unclipped mean is ``mean``
    return float(np.clip(rng.lognormal(mu, lengths.spread), lengths.low, lengths.high))


def count_word_tokens(text: str) -> int:
    """Tokens of ``text`` under the built-in word-level tokenizers (a masked word is one)."""
    return len(_TOKEN_RE.findall(text.replace(MASK_PLACEHOLDER, " mask ")))


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


def builtin_queries(
    task: str, count: int, seed: int = 0, protocol: str | None = None
) -> QuerySequence:
    """``count`` built-in queries of ``task``, the same for the same seed, made on access.

    Query ``i`` depends on ``(seed, task, i)`` only. Sizes follow the datasets
    ``protocol`` draws ``task``'s queries from (``workloads.workload_stats``: AI Energy
    Score's own mix where it has one, else ``WORKLOAD_STATS``).
    """
    spec = get_task(task)
    if count < 0:
        raise ConfigError(f"The number of queries must be 0 or more, not {count}.")
    stats = workload_stats(spec.name, protocol)
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
    return max(1, round(draw(lengths, rng) * TOKENS_PER_WORD))


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

    long_side = round(draw(anchor.parts["long_side"], rng))
    short_side = min(long_side, round(draw(anchor.parts["short_side"], rng)))
    portrait = anchor.portrait > 0 and rng.random() < anchor.portrait
    width, height = (short_side, long_side) if portrait else (long_side, short_side)
    pixels = _noise_bytes(rng, width * height * 3).reshape(height, width, 3)
    image = Image.fromarray(pixels, "RGB")
    return Query(image=image, size=width * height, size_unit="pixels")


def _make_audio(rng: np.random.Generator, anchor: AnchorSizes) -> Query:
    duration_s = draw(anchor.parts["duration_s"], rng)
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
