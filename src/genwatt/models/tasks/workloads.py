"""The sizes of each task's queries in the datasets the anchors drew them from.

"Power Hungry Processing" (Luccioni et al. 2024) and AI Energy Score each drew a task's
1,000 queries from up to three datasets in equal shares. Energy per query depends on how
big a query is (tokens, pixels, seconds of audio), not on what it says, so these figures
are what genwatt needs from those datasets: the built-in workload draws its queries'
sizes from them (``genwatt.run.suite.inputs``) and the predictor takes their means as the
typical query of a task. Each figure cites its source; one marked approximate says why.

Lengths are log-normal with the stated mean (``spread`` is the sigma of the logarithm),
clipped to the stated range. Text lengths are word counts, as the datasets' papers give
them; a model sees ``TOKENS_PER_WORD`` times as many subword tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genwatt.models.tasks.catalog import get_task

# Subword tokens per English word: "100 tokens ~= 75 words" (OpenAI, "What are tokens
# and how to count them", help.openai.com), about what BERT's WordPiece and GPT-2's BPE
# give on English prose. The anchors' lengths are in words; their models saw tokens.
TOKENS_PER_WORD = 4 / 3


@dataclass(frozen=True)
class Lengths:
    """A length (tokens, pixels on one side, or seconds) drawn log-normal, then clipped."""

    mean: float
    spread: float  # sigma of the logarithm; 0 draws the mean every time
    low: float
    high: float


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

_IMDB = AnchorSizes(
    "IMDB",
    {"text": Lengths(230, 0.75, 10, 2470)},
    "Maas et al. 2011, 50,000 movie reviews",
    "mean about 230 words, median about 174, longest about 2,470, as word "
    "counts of the reviews are commonly reported; the paper gives none",
)
_CNN_DAILYMAIL = AnchorSizes(
    "CNN/DailyMail",
    {"text": Lengths(781, 0.5, 50, 2800)},
    'See et al. 2017, "Get To The Point", section 4: articles of 781 tokens '
    "on average (summaries 56)",
    "the spread and range",
)
_SAMSUM = AnchorSizes(
    "SAMSum",
    {"text": Lengths(94, 0.6, 10, 800)},
    "Gliwa et al. 2019, SAMSum: messenger-like dialogues of 3-30 utterances",
    "about 94 words a dialogue as commonly reported; not checked here",
)
_WIKITEXT = AnchorSizes(
    "WikiText",
    {"text": Lengths(130, 0.6, 10, 512)},
    "Merity et al. 2016, WikiText-103: Wikipedia articles, one paragraph a row",
    "about 130 words a paragraph, an estimate: no per-paragraph mean was at hand",
)
_OSCAR = AnchorSizes(
    "OSCAR",
    {"text": Lengths(300, 0.8, 20, 512)},
    "Ortiz Suarez et al. 2019, OSCAR: Common Crawl web documents",
    "about 300 words a document, an estimate: no published mean was at hand",
)
_IMAGENET = AnchorSizes(
    "ImageNet",
    {
        "long_side": Lengths(400, 0.2, 80, 2500),
        "short_side": Lengths(350, 0.2, 60, 2000),
    },
    "Russakovsky et al. 2015, ILSVRC: Flickr photos of varying size",
    "about 400x350 px on average, the commonly quoted figure (469x387 is also "
    "quoted for the training set); the spreads are estimates",
    portrait=0.2,
)
_PROMPT_CAP_NOTE = (
    "Prompts are capped at 512 tokens so that every registered model (GPT-2 "
    "has 1,024 positions) holds the prompt and the new tokens."
)

WORKLOAD_STATS: dict[str, WorkloadStats] = {
    s.task: s
    for s in (
        WorkloadStats(
            "text-classification",
            "tokens",
            (
                _IMDB,
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
                _CNN_DAILYMAIL,
                _SAMSUM,
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
                _WIKITEXT,
                AnchorSizes(
                    "BookCorpus",
                    {"text": Lengths(13, 0.58, 3, 100)},
                    "Zhu et al. 2015, Table 2: mean 13 words a sentence, median 11",
                    "the longest sentence",
                ),
                _OSCAR,
            ),
            note=_PROMPT_CAP_NOTE,
        ),
        WorkloadStats(
            "image-classification",
            "pixels",
            (
                _IMAGENET,
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


# AI Energy Score draws some tasks' queries from other datasets than Power Hungry
# Processing (shared/reference/ai_energy_score_protocol.md lists them); where their sizes
# differ, its runs and predictions take these mixes. Tasks not listed keep the mixes
# above: their AI Energy Score datasets are of the same kind and size, as each note says.
AI_ENERGY_SCORE_STATS: dict[str, WorkloadStats] = {
    s.task: s
    for s in (
        WorkloadStats(
            "text-classification",
            "tokens",
            (
                _IMDB,
                AnchorSizes(
                    "Tweet Eval",
                    {"text": Lengths(20, 0.4, 2, 60)},
                    "Barbieri et al. 2020, TweetEval (Findings of EMNLP): SemEval tweets, "
                    "written under Twitter's 140-character limit",
                    "about 20 words a tweet, from the character limit; no published mean "
                    "was at hand",
                ),
                AnchorSizes(
                    "Yelp",
                    {"text": Lengths(151.9, 0.8, 1, 1000)},
                    'Yang et al. 2016, "Hierarchical Attention Networks for Document '
                    'Classification", Table 1: Yelp 2015 reviews, 151.9 words on average',
                    "the spread and range",
                ),
            ),
        ),
        WorkloadStats(
            "summarization",
            "tokens",
            (
                _CNN_DAILYMAIL,
                _SAMSUM,
                AnchorSizes(
                    "ArXiv",
                    {"text": Lengths(4938, 0.6, 300, 30000)},
                    'Cohan et al. 2018, "A Discourse-Aware Attention Model for Abstractive '
                    'Summarization of Long Documents", Table 1: arXiv papers of 4,938 words '
                    "on average",
                    "the spread and range",
                ),
            ),
            note="The model's tokenizer truncates articles past its maximum input.",
        ),
        WorkloadStats(
            "text-generation",
            "tokens",
            (
                _WIKITEXT,
                _OSCAR,
                AnchorSizes(
                    "UltraChat",
                    {"text": Lengths(70, 0.7, 5, 512)},
                    "Ding et al. 2023, UltraChat: multi-turn instructional dialogues; a "
                    "query is a user's turn",
                    "about 70 words a user turn, an estimate: the paper gives lengths per "
                    "dialogue, not per turn",
                ),
            ),
            note=_PROMPT_CAP_NOTE,
        ),
        WorkloadStats(
            "image-classification",
            "pixels",
            (
                _IMAGENET,
                AnchorSizes(
                    "Food-101",
                    {
                        "long_side": Lengths(512, 0.0, 512, 512),
                        "short_side": Lengths(384, 0.15, 200, 512),
                    },
                    "Bossard et al. 2014, Food-101: images rescaled to at most 512 px on "
                    "the long side",
                    "the short side's mean (384 px, a 4:3 photo) and its spread",
                    portrait=0.2,
                ),
                AnchorSizes(
                    "Beans",
                    {
                        "long_side": Lengths(500, 0.0, 500, 500),
                        "short_side": Lengths(500, 0.0, 500, 500),
                    },
                    "Makerere AI Lab 2020, Beans (bean leaf photos), 500x500 px as its "
                    "dataset card states",
                ),
            ),
            note="The image processor resizes every image; size changes preprocessing only.",
        ),
    )
}

# The mixes a protocol draws from where they are not ``WORKLOAD_STATS``'.
PROTOCOL_WORKLOADS: dict[str, dict[str, WorkloadStats]] = {
    "ai-energy-score": AI_ENERGY_SCORE_STATS,
}


def workload_stats(task: str, protocol: str | None = None) -> WorkloadStats:
    """The dataset mix of ``task``'s queries under ``protocol`` (None, or a protocol that
    draws from the same datasets: the default mix)."""
    name = get_task(task).name
    return PROTOCOL_WORKLOADS.get(protocol or "", {}).get(name) or WORKLOAD_STATS[name]


def has_own_workload(protocol: str | None, task: str) -> bool:
    """Whether ``protocol`` draws ``task``'s queries from a mix of its own."""
    return get_task(task).name in PROTOCOL_WORKLOADS.get(protocol or "", {})


def typical_query(
    task: str, protocol: str | None = None, cap: float | None = None
) -> dict[str, float]:
    """The mean size of each part of ``task``'s queries over its anchor datasets in equal
    shares (``protocol``'s mix where it has one): tokens for text (words x
    ``TOKENS_PER_WORD``), pixels, seconds.

    ``cap`` limits each dataset's mean before the mix is taken (a model's input limit in
    tokens: a tokenizer truncates arXiv papers to it, so they add the limit to the
    mean, not their own length).
    """
    stats = workload_stats(task, protocol)
    scale = TOKENS_PER_WORD if stats.unit == "tokens" else 1.0
    parts: dict[str, list[float]] = {}
    for anchor in stats.anchors:
        for name, lengths in anchor.parts.items():
            size = scale * lengths.mean
            parts.setdefault(name, []).append(size if cap is None else min(size, cap))
    return {name: sum(v) / len(v) for name, v in parts.items()}


def workload_summary(task: str, protocol: str | None = None) -> dict[str, Any]:
    """The built-in workload of ``task`` as plain data (for ``--json`` listings)."""
    stats = workload_stats(task, protocol)
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
