"""What one pipeline call of a suite model feeds the model: the shapes behind its compute.

A query is given in the units of its dataset (text tokens, an image's sides, seconds of
audio); the model sees what the pipeline makes of it. This module turns one into the
other without torch, following each pipeline's own rules:

- text: the tokenizer adds its special tokens (its template's ``{cls}``, ``{sep}``,
  ``{bos}``...), a multi-purpose model's prompt template adds its own words (at
  ``TOKENS_PER_WORD`` tokens each), and everything is cut at the model's maximum input
  (the tokenizer's ``model_max_length`` and the learned positions of its config), as the
  pipelines truncate. Extractive QA cuts a long context into windows of
  ``QA_MAX_SEQ_LEN`` tokens overlapping by ``QA_DOC_STRIDE``; sentence similarity
  encodes both sentences, padded to the longer, in one forward.
- images: the image processor's resize, in closed form per processor class (fixed sides
  for ViT and BLIP, a square crop for ConvNeXt and CLIP, the aspect-keeping resize of
  DETR and YOLOS, whose sides YOLOS also rounds down to a multiple of 16).
- audio: Whisper's feature extractor pads every clip to its 30 s window
  (``chunk_length x sampling_rate / hop_length`` frames of ``feature_size`` mel bins)
  and the suite cuts longer clips into 30 s chunks with 5 s strides; wav2vec 2.0 reads
  the 16 kHz samples themselves.
- generation: the task's fixed length (10 tokens for a multi-purpose model) and the
  beams: the checkpoint's own (BART-CNN's 4) or the speech pipeline's default (5).

Unset sizes default to the task's typical query (``typical_query``): the mean over its
anchor datasets. Pure arithmetic: importing this module loads no torch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from genwatt.errors import ConfigError
from genwatt.models.tasks.catalog import MULTI_PURPOSE_NEW_TOKENS, get_task
from genwatt.models.tasks.spec import ProcessorSpec, TaskModelSpec, TokenizerScheme
from genwatt.models.tasks.speech import SAMPLING_RATE, WHISPER_CHUNK_S
from genwatt.models.tasks.workloads import TOKENS_PER_WORD, typical_query

# transformers v4's question-answering pipeline defaults, which genwatt's pipeline keeps
# (``genwatt.models.tasks.pipelines.question_answering``: MAX_SEQ_LEN, DOC_STRIDE; a test
# checks they agree): windows of 384 tokens overlapping by 128.
QA_MAX_SEQ_LEN = 384
QA_DOC_STRIDE = 128

# transformers' ASR pipeline: ``chunk_length_s / 6`` of stride on each side of a chunk
# (AutomaticSpeechRecognitionPipeline.preprocess), with the 30 s chunks the suite asks
# Whisper's pipeline for (``run/suite/task_workload._CALL_KWARGS``); and its default of
# 5 beams, "follows openai's whisper implementation"
# (AutomaticSpeechRecognitionPipeline._default_generation_config). Tests check both
# against transformers.
ASR_CHUNK_S = float(WHISPER_CHUNK_S)
ASR_STRIDE_S = ASR_CHUNK_S / 6
ASR_DEFAULT_BEAMS = 5

# Above this, a tokenizer's ``model_max_length`` is transformers' "no limit" sentinel.
_NO_LIMIT = 10**9
_ROLE = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class QueryShape:
    """What one pipeline call of ``batch`` queries hands the model.

    ``tokens`` is the length of each text sequence the model (or its encoder) reads;
    ``rows`` the sequences per query in one forward (2 for a sentence pair); ``calls``
    the sequential forwards (or ``generate`` calls) per batch: QA windows, 30 s audio
    chunks. ``model_hw`` is the image the model sees, after the processor; ``samples``
    the audio samples (wav2vec 2.0); ``mel_bins`` x ``frames`` Whisper's features.
    ``prompt_tokens`` is a decoder-only model's prompt; ``new_tokens`` and ``beams``
    are None for models that do not generate. ``inputs`` states what was assumed.
    """

    batch: int
    inputs: dict[str, Any]
    tokens: int | None = None
    rows: int = 1
    calls: int = 1
    model_hw: tuple[int, int] | None = None
    samples: int | None = None
    mel_bins: int | None = None
    frames: int | None = None
    new_tokens: int | None = None
    beams: int = 1
    notes: tuple[str, ...] = field(default=())


def form_config(spec: TaskModelSpec, weights: str) -> dict[str, Any]:
    """The config values of the real (``random``) or ``tiny`` form, as plain data."""
    values = dict(spec.config)
    if weights == "tiny":
        values.update(spec.tiny_config)
    return values


def _processor(spec: TaskModelSpec, weights: str) -> ProcessorSpec | None:
    if weights == "tiny" and spec.tiny_processor is not None:
        return spec.tiny_processor
    return spec.processor


def special_tokens(scheme: TokenizerScheme | None, *, pair: bool = False) -> int:
    """The special tokens the tokenizer's template adds to one text (or a pair)."""
    if scheme is None:
        return 0
    if pair:
        if scheme.pair is not None:
            return len(_ROLE.findall(scheme.pair))
        return 2 * len(_ROLE.findall(scheme.single))
    return len(_ROLE.findall(scheme.single))


def max_input_tokens(spec: TaskModelSpec, weights: str = "random") -> int | None:
    """How many tokens the model reads: its tokenizer's ``model_max_length``, capped by
    the learned positions of its config (``max_position_embeddings``, ``n_positions``);
    None where neither limits it."""
    limits: list[int] = []
    if spec.tokenizer is not None and spec.tokenizer.model_max_length < _NO_LIMIT:
        limits.append(spec.tokenizer.model_max_length)
    config = form_config(spec, weights)
    for key in ("max_position_embeddings", "n_positions"):
        value = config.get(key)
        if isinstance(value, int) and value > 0:
            limits.append(value)
    return min(limits) if limits else None


def template_tokens(template: str) -> float:
    """Tokens a prompt template adds around its fields: its own words at
    ``TOKENS_PER_WORD`` each (``"sst2 sentence: {text}"`` adds two words)."""
    words = _ROLE.sub(" ", template).split()
    return len(words) * TOKENS_PER_WORD


def _text_parts(
    task: str, input_tokens: float | None, workload: str | None, limit: int | None
) -> dict[str, float]:
    """The text tokens of each part of one query: the typical query of ``workload``'s
    datasets (each dataset's mean truncated at ``limit`` where the query is one text),
    or ``input_tokens`` shared between its parts in the typical proportions."""
    parts = typical_query(task, workload)
    if input_tokens is None:
        if len(parts) == 1 and limit is not None:
            return typical_query(task, workload, cap=limit)
        return parts
    if input_tokens <= 0:
        raise ConfigError(f"input_tokens must be positive, got {input_tokens}.")
    total = sum(parts.values())
    return {name: input_tokens * value / total for name, value in parts.items()}


def _is_multi_purpose_prompt(spec: TaskModelSpec, task: str) -> str | None:
    return spec.prompts.get(task) if spec.kind == "multi-purpose" else None


def _reject(name: str, value: object, spec: TaskModelSpec, task: str, takes: str) -> None:
    if value is not None:
        raise ConfigError(
            f"{spec.repo_id} on {task} takes {takes}; {name} does not apply to it. Leave it out."
        )


def _cap(tokens: int, limit: int | None, notes: list[str], what: str) -> int:
    if limit is not None and tokens > limit:
        notes.append(f"{what} cut from {tokens} to the model's {limit} tokens, as the pipeline")
        return limit
    return tokens


def _qa_windows(
    question: int, context: int, specials: int, limit: int | None, notes: list[str]
) -> tuple[int, int]:
    """Windows of a question and its context, and their length, as the QA pipeline cuts
    them: every window holds the question and up to ``max_seq_len - question - specials``
    context tokens, each window starting ``doc_stride`` tokens before the last one ended.
    Several windows are counted at full length (a batch pads them to it)."""
    max_seq = min(QA_MAX_SEQ_LEN, limit or QA_MAX_SEQ_LEN)
    stride = min(QA_DOC_STRIDE, max_seq // 2)
    room = max_seq - question - specials
    if room <= stride:
        raise ConfigError(
            f"question-answering: a {question}-token question leaves no room for the context "
            f"in windows of {max_seq} tokens overlapping by {stride}; shorten the question."
        )
    if question + context + specials <= max_seq:
        return 1, question + context + specials
    windows = 1 + math.ceil((context - room) / (room - stride))
    notes.append(
        f"the context runs past one {max_seq}-token window: {windows} windows overlapping "
        f"by {stride} tokens, each a forward at full length"
    )
    return windows, max_seq


def _text_shape(
    spec: TaskModelSpec,
    task: str,
    weights: str,
    input_tokens: float | None,
    new_tokens: int | None,
    notes: list[str],
    workload: str | None = None,
) -> tuple[int, int, int, dict[str, Any]]:
    """(tokens per sequence, rows per query, calls per batch, what was assumed)."""
    scheme = spec.tokenizer
    limit = max_input_tokens(spec, weights)
    parts = _text_parts(task, input_tokens, workload, limit)
    assumed: dict[str, Any] = {"input_tokens": round(sum(parts.values()), 2)}
    template = _is_multi_purpose_prompt(spec, task)
    if template is not None:
        added = template_tokens(template)
        assumed["prompt_template_tokens"] = added
        tokens = max(1, round(sum(parts.values()) + added)) + special_tokens(scheme)
        if _decoder_only(spec) and new_tokens and limit is not None:
            limit -= new_tokens
        return _cap(tokens, limit, notes, "the prompt"), 1, 1, assumed
    if task == "question-answering":
        question = max(1, round(parts.get("question", 0.0)))
        context = max(1, round(parts.get("context", 0.0)))
        specials = special_tokens(scheme, pair=True)
        windows, length = _qa_windows(question, context, specials, limit, notes)
        assumed.update(question_tokens=question, context_tokens=context, windows=windows)
        return length, 1, windows, assumed
    if task == "sentence-similarity":
        prefix = str(spec.pipeline_kwargs.get("prefix", ""))
        added = template_tokens(prefix) if prefix else 0.0
        longest = max(parts.values())
        tokens = max(1, round(longest + added)) + special_tokens(scheme)
        assumed["sentences"] = len(parts)
        if added:
            assumed["prefix_tokens"] = added
        return _cap(tokens, limit, notes, "a sentence"), len(parts), 1, assumed
    tokens = max(1, round(sum(parts.values()))) + special_tokens(scheme)
    if _decoder_only(spec) and new_tokens and limit is not None:
        # A decoder-only model's positions must hold the prompt and what it writes.
        limit -= new_tokens
    return _cap(tokens, limit, notes, "the text"), 1, 1, assumed


def _decoder_only(spec: TaskModelSpec) -> bool:
    """A model whose one stack reads the prompt and writes the answer (GPT-2, BLOOMZ)."""
    return spec.decoder is not None and spec.encoder is None


def _resize_keep_ratio(
    height: int, width: int, short: int, long: int | None, *, yolos: bool
) -> tuple[int, int]:
    """DETR's and YOLOS's resize: the short side to ``short`` unless the long side would
    pass ``long``. transformers ``image_transforms.get_size_with_aspect_ratio`` and
    ``models/yolos/image_processing_yolos.get_size_with_aspect_ratio_yolos`` (which
    also rounds both sides down to a multiple of 16), line for line."""
    raw: float | None = None
    size = short
    if long is not None:
        low, high = float(min(height, width)), float(max(height, width))
        if high / low * size > long:
            raw = long * low / high
            size = round(raw)
    same = (height <= width and height == size) or (width <= height and width == size)
    if yolos and width < height:
        same = False
    if same:
        out_h, out_w = height, width
    elif width < height:
        out_w = size
        out_h = int((raw if raw is not None else size) * height / width)
    else:
        out_h = size
        out_w = int((raw if raw is not None else size) * width / height)
    if yolos:
        out_h, out_w = out_h - out_h % 16, out_w - out_w % 16
    return out_h, out_w


def processed_image_hw(processor: ProcessorSpec, image_hw: tuple[int, int]) -> tuple[int, int]:
    """The ``pixel_values`` sides ``processor`` makes of an image of ``image_hw``
    (height, width), without running it (a test runs the real processors)."""
    config: Mapping[str, Any] = processor.config
    size = dict(config.get("size") or {})
    height, width = image_hw
    name = processor.class_name
    if name in ("DetrImageProcessor", "YolosImageProcessor"):
        return _resize_keep_ratio(
            height,
            width,
            int(size["shortest_edge"]),
            size.get("longest_edge"),
            yolos=name == "YolosImageProcessor",
        )
    if config.get("do_center_crop") and "crop_size" in config:
        crop = config["crop_size"]
        return int(crop["height"]), int(crop["width"])
    if "height" in size and "width" in size:
        return int(size["height"]), int(size["width"])
    if name == "ConvNextImageProcessor" and "shortest_edge" in size:
        # Below 384 a resize then a centre crop to the side, at 384 and above a warp to it.
        side = int(size["shortest_edge"])
        return side, side
    raise ConfigError(f"No closed form for the resize of {name} with {dict(config)}.")


def _default_image_hw(task: str, workload: str | None = None) -> tuple[int, int]:
    """The typical image of ``task``'s datasets: landscape, mean short x mean long side."""
    parts = typical_query(task, workload)
    return max(1, round(parts["short_side"])), max(1, round(parts["long_side"]))


def whisper_chunks(audio_s: float) -> int:
    """30 s chunks the ASR pipeline cuts a clip into (``chunk_iter``): starts every
    ``chunk - 2 x stride`` seconds, the last one the first to reach the clip's end."""
    step = ASR_CHUNK_S - 2 * ASR_STRIDE_S
    return 1 + max(0, math.ceil((audio_s - ASR_CHUNK_S) / step))


def generation_settings(spec: TaskModelSpec, task: str) -> tuple[int | None, int]:
    """(new tokens, beams) of ``spec`` on ``task``: None new tokens where the model does
    not generate (``decoder`` unset: classifiers, encoders, CTC)."""
    if spec.decoder is None:
        return None, 1
    task_spec = get_task(task)
    new_tokens = MULTI_PURPOSE_NEW_TOKENS if spec.kind == "multi-purpose" else task_spec.new_tokens
    beams = spec.generation.get("num_beams")
    if beams is None and task_spec.name == "automatic-speech-recognition":
        beams = ASR_DEFAULT_BEAMS
    return new_tokens, int(beams or 1)


def query_shape(
    spec: TaskModelSpec,
    task: str,
    *,
    batch: int = 1,
    input_tokens: float | None = None,
    new_tokens: int | None = None,
    image_hw: tuple[int, int] | None = None,
    audio_s: float | None = None,
    weights: str = "random",
    beams: int | None = None,
    workload: str | None = None,
) -> QueryShape:
    """What one call of ``spec``'s pipeline on ``task`` with ``batch`` queries feeds the
    model; unset sizes are the task's typical query (over the datasets protocol
    ``workload`` draws from; None: the default mix), unset ``beams`` the checkpoint's or
    pipeline's own."""
    task_spec = get_task(task)
    if task_spec.name not in spec.tasks:
        raise ConfigError(
            f"{spec.repo_id} is not registered for {task_spec.name}; its tasks: "
            f"{', '.join(spec.tasks)}."
        )
    if spec.is_diffusion:
        raise ConfigError(f"{spec.repo_id} is a diffusion model: use generation_flops.")
    if batch < 1:
        raise ConfigError(f"batch must be at least 1, got {batch}.")
    default_new, default_beams = generation_settings(spec, task_spec.name)
    if new_tokens is not None and default_new is None:
        raise ConfigError(f"{spec.repo_id} does not generate: new_tokens does not apply.")
    if beams is not None and (default_new is None or beams < 1):
        raise ConfigError(
            f"beams applies to a generating model and must be at least 1; {spec.repo_id} "
            f"on {task_spec.name} got {beams}."
        )
    beams = beams or default_beams
    if new_tokens is not None and new_tokens < 1:
        raise ConfigError(f"new_tokens must be at least 1, got {new_tokens}.")
    new = new_tokens if new_tokens is not None else default_new
    notes: list[str] = []
    kind = task_spec.inputs
    common = {"batch": batch, "new_tokens": new, "beams": beams}
    if kind == "image":
        _reject("input_tokens", input_tokens, spec, task, "an image")
        _reject("audio_s", audio_s, spec, task, "an image")
        hw = tuple(int(v) for v in image_hw) if image_hw is not None else None
        if hw is not None and (len(hw) != 2 or min(hw) < 1):
            raise ConfigError(f"image_hw is (height, width) in pixels, got {image_hw}.")
        original = hw or _default_image_hw(task_spec.name, workload)
        processor = _processor(spec, weights)
        if processor is None:
            raise ConfigError(f"{spec.repo_id} has no image processor.")
        model_hw = processed_image_hw(processor, (original[0], original[1]))
        inputs = {"image_hw": tuple(original), "model_image_hw": model_hw, **_gen(new, beams)}
        return QueryShape(inputs=inputs, model_hw=model_hw, notes=tuple(notes), **common)
    if kind == "audio":
        _reject("input_tokens", input_tokens, spec, task, "a clip of audio")
        _reject("image_hw", image_hw, spec, task, "a clip of audio")
        seconds = (
            float(audio_s) if audio_s is not None else typical_query(task, workload)["duration_s"]
        )
        if seconds <= 0:
            raise ConfigError(f"audio_s must be positive, got {audio_s}.")
        processor = _processor(spec, weights)
        config = dict(processor.config) if processor is not None else {}
        rate = int(config.get("sampling_rate", SAMPLING_RATE))
        inputs = {"audio_s": seconds, **_gen(new, beams)}
        if processor is not None and processor.class_name == "WhisperFeatureExtractor":
            chunks = whisper_chunks(seconds)
            frames = int(config["chunk_length"]) * rate // int(config["hop_length"])
            if chunks > 1:
                notes.append(
                    f"{seconds:g} s runs past Whisper's {ASR_CHUNK_S:g} s window: {chunks} "
                    f"chunks of {ASR_CHUNK_S:g} s with {ASR_STRIDE_S:g} s strides, each "
                    "encoded and decoded"
                )
            inputs.update(chunks=chunks, mel_bins=int(config["feature_size"]), frames=frames)
            return QueryShape(
                inputs=inputs,
                calls=chunks,
                mel_bins=int(config["feature_size"]),
                frames=frames,
                notes=tuple(notes),
                **common,
            )
        samples = max(1, round(seconds * rate))
        inputs["samples"] = samples
        return QueryShape(inputs=inputs, samples=samples, notes=tuple(notes), **common)
    _reject("image_hw", image_hw, spec, task, "text")
    _reject("audio_s", audio_s, spec, task, "text")
    tokens, rows, calls, assumed = _text_shape(
        spec, task_spec.name, weights, input_tokens, new, notes, workload
    )
    inputs = {**assumed, "model_tokens": tokens, **_gen(new, beams)}
    return QueryShape(
        inputs=inputs, tokens=tokens, rows=rows, calls=calls, notes=tuple(notes), **common
    )


def _gen(new_tokens: int | None, beams: int) -> dict[str, Any]:
    return {} if new_tokens is None else {"new_tokens": new_tokens, "beams": beams}
