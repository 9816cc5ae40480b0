"""One query of the suite, whatever its task: the raw fields, and its reference answer.

Queries hold raw fields, not what a pipeline takes, because one query reaches different
models differently: a review is a plain string for a classifier and
``"sst2 sentence: <review>"`` for T5 (``TaskModelSpec.prompts``), and a masked sentence
carries a placeholder that each tokenizer replaces with its own mask token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Where the masked word of a fill-mask query is; replaced by the tokenizer's mask token.
MASK_PLACEHOLDER = "<<mask>>"


@dataclass(frozen=True)
class Query:
    """One query. Text tasks fill ``text`` (and ``text_pair`` for sentence similarity,
    ``question`` and ``context`` for extractive QA); image tasks ``image`` (a PIL image,
    RGB); speech ``audio`` (mono float32 samples) at ``sampling_rate``; diffusion tasks
    ``text`` (the prompt).

    ``label`` is the reference answer where the data has one: a class name, the masked
    word, the answer text, a transcript, a summary, or entity tags; None otherwise.
    ``size`` is the query's size in its natural unit (``size_unit``: tokens, pixels,
    seconds), for the workload's statistics.
    """

    text: str | None = None
    text_pair: str | None = None
    question: str | None = None
    context: str | None = None
    image: Any = None
    audio: Any = None
    sampling_rate: int | None = None
    label: Any = None
    size: float | None = None
    size_unit: str = ""
