"""What the multi-task suite runs: its tasks, and the models registered for each.

A ``TaskSpec`` names one of the thirteen tasks as transformers and diffusers name them,
with the input it takes and the generation length the anchors fix. A
``TaskModelSpec`` is one checkpoint: its transformers class and real config (cited, its
parameter count checked on the meta device by a test), the tokenizer, image processor
or feature extractor that feeds it, and its tiny form (the same classes, small sizes).
Both are plain data: listing tasks and models imports no torch.

Text-to-image and text-to-video models are not restated here: the suite runs the
diffusion models of ``genwatt.models.registry`` (``diffusion_model``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

TaskName = Literal[
    "text-classification",
    "token-classification",
    "question-answering",
    "fill-mask",
    "sentence-similarity",
    "summarization",
    "text-generation",
    "image-classification",
    "object-detection",
    "image-to-text",
    "automatic-speech-recognition",
    "text-to-image",
    "text-to-video",
]

# What one query is: a text, a (question, context) pair, a pair of sentences, a text
# with one masked word, an image, a clip of speech, or a prompt for a diffusion model.
InputKind = Literal[
    "text", "question-context", "sentence-pair", "masked-text", "image", "audio", "prompt"
]

# How a query's answer is scored where the data has labels and the weights are trained.
QualityMetric = Literal["accuracy", "entity-f1", "squad-f1", "top1", "rouge-l", "wer", "none"]

ModelKind = Literal["task-specific", "multi-purpose"]


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class TaskSpec:
    """One task of the suite.

    ``new_tokens`` is the exact number of tokens a generating task produces per query
    (min = max), so that random weights, which rarely emit an end token, cost what
    trained ones do; ``steps`` the denoising steps of the diffusion tasks. Both follow
    AI Energy Score's settings (shared/reference/ai_energy_score_protocol.md) and are
    settable per run.
    """

    name: TaskName
    inputs: InputKind
    quality: QualityMetric
    generates: bool  # runs ``generate`` (prefill and decode phases) or a diffusion loop
    new_tokens: int | None = None
    steps: int | None = None
    description: str = ""
    # The datasets the anchors drew this task's queries from, for the docs and listings.
    anchor_datasets: tuple[str, ...] = ()


@dataclass(frozen=True)
class TokenizerScheme:
    """A tokenizer built in code: its special tokens, where the real vocabulary keeps
    them, how a text or a pair is framed, and its limits.

    ``specials`` maps a role (``cls``, ``sep``, ``bos``, ``eos``, ``pad``, ``unk``,
    ``mask``) to ``(token, id)`` with the real tokenizer's ids, so that a real-size
    model with random weights sees the same ids its config names. ``single`` and
    ``pair`` are ``tokenizers`` templates using role names in braces, e.g.
    ``"{cls} $A {sep}"``. The tiny form renumbers the specials from 0 (``compact``).
    """

    family: str  # "bert", "roberta", "gpt2", "t5", ... (for listings and errors)
    specials: Mapping[str, tuple[str, int]] = field(hash=False)
    single: str = "$A"
    pair: str | None = None
    model_max_length: int = 512
    padding_side: Literal["left", "right"] = "right"
    lowercase: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "specials", _frozen(self.specials))
        if "unk" not in self.specials:
            raise ValueError(f"{self.family}: a word-level tokenizer needs an unk token")

    def compact(self) -> TokenizerScheme:
        """The same tokens with ids 0, 1, 2... (tiny models keep small embedding tables)."""
        tokens = list(dict.fromkeys(token for token, _ in self.specials.values()))
        renumbered = {
            role: (token, tokens.index(token)) for role, (token, _) in self.specials.items()
        }
        return TokenizerScheme(
            self.family,
            renumbered,
            self.single,
            self.pair,
            self.model_max_length,
            self.padding_side,
            self.lowercase,
        )

    def token_id(self, role: str) -> int | None:
        entry = self.specials.get(role)
        return None if entry is None else entry[1]


@dataclass(frozen=True)
class ProcessorSpec:
    """An image processor or feature extractor built in code from its real config."""

    class_name: str  # a transformers class, e.g. "ViTImageProcessor"
    config: Mapping[str, Any] = field(hash=False)
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", _frozen(self.config))


@dataclass(frozen=True)
class TaskModelSpec:
    """One checkpoint of the suite (``repo_id`` as on the Hub, usable as ``--model``).

    ``class_name`` and ``config_class`` are transformers classes; ``config`` the real
    ``config.json`` values that matter (``source`` cites it) and ``params`` the exact
    parameter count that config builds (a test rebuilds it on the meta device).
    ``tiny_config`` overrides ``config`` for the tiny form (same classes), and
    ``tiny_params`` is its count. ``prompts`` (multi-purpose models) holds, per task, the
    template a query is written into, as the anchors phrase it: ``"sst2 sentence: {text}"``.
    ``encoder`` and ``decoder`` are attribute paths from the model to the module whose
    forward is the encode phase and the one called once per generated token (``""`` is
    the model itself); None where the model has no such part.
    """

    repo_id: str
    tasks: tuple[TaskName, ...]
    family: str
    kind: ModelKind = "task-specific"
    class_name: str = ""
    config_class: str = ""
    config: Mapping[str, Any] = field(default_factory=dict, hash=False)
    source: str = ""
    params: int | None = None
    published_params: float | None = None
    published_source: str = ""
    tokenizer: TokenizerScheme | None = None
    processor: ProcessorSpec | None = None
    tiny_config: Mapping[str, Any] = field(default_factory=dict, hash=False)
    tiny_params: int | None = None
    tiny_processor: ProcessorSpec | None = None
    torch_dtype: str = "float32"
    prompts: Mapping[str, str] = field(default_factory=dict, hash=False)
    encoder: str | None = None
    decoder: str | None = None
    # A genwatt pipeline class ("module:Class") where transformers has none for the task
    # (summarization and text-to-text generation left transformers' pipelines in v5).
    pipeline: str | None = None
    # The transformers pipeline task every task of this model runs through, where it is
    # not the task's own name: a decoder-only multi-purpose model (BLOOMZ) answers its
    # classification, QA and summarization prompts through "text-generation".
    pipeline_task: str | None = None
    # The checkpoint's generation defaults (its generation_config.json: beams, n-gram
    # blocking, forced tokens), set on the random and tiny forms' generation config:
    # transformers v5 no longer reads them from config.json. The suite's call fixes the
    # length; the rest stays the model's, as AI Energy Score keeps it.
    generation: Mapping[str, Any] = field(default_factory=dict, hash=False)
    # Keyword arguments that genwatt pipeline class takes at construction, for settings
    # that belong to the checkpoint rather than to the task (a sentence embedder's
    # pooling, the prefix its inputs are written with).
    pipeline_kwargs: Mapping[str, Any] = field(default_factory=dict, hash=False)
    # Labels the classification head predicts, where quality needs them (SST-2's two).
    labels: tuple[str, ...] = ()
    diffusion_model: str | None = None  # text-to-image / -video: a registry name
    aliases: tuple[str, ...] = ()
    notes: str = ""
    # "module:function" building the random and tiny forms' tokenizer, called as
    # ``fn(spec, weights)``, where a word-level ``TokenizerScheme`` cannot stand in for the
    # real one (Whisper's byte-level tokenizer with its task tokens, wav2vec 2.0's CTC
    # letters). It takes precedence over ``tokenizer``; pretrained weights load the real
    # tokenizer (``AutoTokenizer``) either way.
    tokenizer_factory: str | None = None
    # "module:function" called as ``fn(model, spec, weights)`` once the model is built or
    # loaded (every weights kind, meta included), for what ``config.json`` cannot carry:
    # Whisper's generation config (prompt tokens, language and task tables).
    model_setup: str | None = None
    # The Hub revision (branch, tag or commit) ``pretrained`` loads, where the default one
    # does not suit: DETR's "no_timm" branch holds the same weights for transformers'
    # own ResNet backbone, so loading them does not need timm.
    revision: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", _frozen(self.config))
        object.__setattr__(self, "tiny_config", _frozen(self.tiny_config))
        object.__setattr__(self, "prompts", _frozen(self.prompts))
        object.__setattr__(self, "generation", _frozen(self.generation))
        object.__setattr__(self, "pipeline_kwargs", _frozen(self.pipeline_kwargs))
        if self.kind == "multi-purpose":
            missing = [t for t in self.tasks if t not in self.prompts]
            if missing:
                raise ValueError(f"{self.repo_id}: multi-purpose without prompts for {missing}")
        if self.diffusion_model is None and not (self.class_name and self.config_class):
            raise ValueError(f"{self.repo_id}: class_name and config_class are required")

    @property
    def name(self) -> str:
        return self.repo_id

    @property
    def is_diffusion(self) -> bool:
        return self.diffusion_model is not None

    def prompt_for(self, task: str, **fields: str) -> str | None:
        """The query as this model reads it for ``task`` (multi-purpose models), or None."""
        template = self.prompts.get(task)
        return None if template is None else template.format(**fields)
