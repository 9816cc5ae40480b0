"""The compute of one query of every suite model: shapes, counts, and their checks.

Four kinds of evidence:

- the input shapes against the pipelines' own rules (image processors run for real,
  transformers' chunking of long audio, the QA pipeline's constants);
- the counter on toy modules, where the answer is known (weights read, rows gathered,
  one kernel per fused attention, no kernel for a view);
- the meta count of each call pattern against a real CPU pipeline call of the tiny form
  under FlopCounterMode (math SDPA), counting the model's own work (the pipeline's
  ``_forward``): they agree to rounding, beams, caches and start tokens included; and
  against closed forms of real-size models;
- monotonicity in tokens, new tokens, batch and pixels, and every registered model of
  every task counted (slow: about a minute on two cores).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from genwatt.errors import ConfigError
from genwatt.flops.decoder_lm import decode, prefill
from genwatt.flops.task_compute import TaskCompute, task_compute
from genwatt.flops.task_counter import Bucketed
from genwatt.flops.task_inputs import (
    ASR_CHUNK_S,
    ASR_DEFAULT_BEAMS,
    ASR_STRIDE_S,
    QA_DOC_STRIDE,
    QA_MAX_SEQ_LEN,
    processed_image_hw,
    query_shape,
    special_tokens,
    template_tokens,
    whisper_chunks,
)
from genwatt.models.tasks import get_task_model, list_task_models
from genwatt.models.tasks.build import build_processor, build_task_pipeline
from genwatt.models.tasks.calls import model_generation_kwargs
from genwatt.models.tasks.spec import TaskModelSpec
from genwatt.models.tokenizer import plain_tokens

WORDS = [w for w in plain_tokens() if w.isalpha()]


def _text(words: int, offset: int = 0) -> str:
    return " ".join(WORDS[(offset + i) % len(WORDS)] for i in range(words))


# ---------------------------------------------------------------------- input shapes


def test_the_pipelines_constants_are_the_ones_assumed() -> None:
    from transformers.pipelines.automatic_speech_recognition import (
        AutomaticSpeechRecognitionPipeline,
    )

    from genwatt.models.tasks.pipelines.question_answering import DOC_STRIDE, MAX_SEQ_LEN
    from genwatt.run.suite.task_workload import _CALL_KWARGS

    assert (QA_MAX_SEQ_LEN, QA_DOC_STRIDE) == (MAX_SEQ_LEN, DOC_STRIDE)
    beams = AutomaticSpeechRecognitionPipeline._default_generation_config.num_beams
    assert beams == ASR_DEFAULT_BEAMS
    chunk = _CALL_KWARGS[("automatic-speech-recognition", "whisper")]["chunk_length_s"]
    assert (chunk, chunk / 6) == (ASR_CHUNK_S, ASR_STRIDE_S)


@pytest.mark.parametrize("seconds", [1.3, 7.42, 29.9, 30.0, 30.5, 35.0, 50.0, 50.5, 95.0])
def test_whisper_chunks_are_those_transformers_cuts(seconds: float) -> None:
    from transformers.pipelines.automatic_speech_recognition import chunk_iter

    class Features:
        sampling_rate = 16_000

        def __call__(self, chunk: Any, **kwargs: Any) -> dict[str, Any]:
            return {}

    rate = Features.sampling_rate
    samples = np.zeros(round(seconds * rate), dtype=np.float32)
    stride = round(ASR_STRIDE_S * rate)
    cut = list(chunk_iter(samples, Features(), round(ASR_CHUNK_S * rate), stride, stride))
    assert whisper_chunks(seconds) == len(cut)


IMAGE_SIZES = [(480, 640), (640, 480), (32, 32), (375, 500), (427, 640), (600, 2000), (801, 799)]
PROCESSORS = sorted(
    {
        (s.repo_id, s.processor.class_name)
        for s in list_task_models()
        if s.processor is not None and "ImageProcessor" in s.processor.class_name
    }
)


@pytest.mark.parametrize(("repo_id", "kind"), PROCESSORS)
def test_the_processed_image_is_the_processors_own(repo_id: str, kind: str) -> None:
    from PIL import Image

    spec = get_task_model(repo_id)
    assert spec.processor is not None
    processor = build_processor(spec.processor)
    for height, width in IMAGE_SIZES:
        image = Image.fromarray(np.zeros((height, width, 3), dtype=np.uint8))
        pixels = processor(images=image, return_tensors="pt")["pixel_values"]
        expected = tuple(pixels.shape[-2:])
        assert processed_image_hw(spec.processor, (height, width)) == expected, (height, width)


def test_text_is_framed_templated_and_cut_as_the_pipelines_do() -> None:
    bert = get_task_model("google-bert/bert-base-uncased")
    assert special_tokens(bert.tokenizer) == 2  # [CLS] ... [SEP]
    assert special_tokens(bert.tokenizer, pair=True) == 3
    assert query_shape(bert, "fill-mask", input_tokens=126).tokens == 128
    assert query_shape(bert, "fill-mask", input_tokens=5000).tokens == 512

    t5 = get_task_model("google-t5/t5-small")
    assert template_tokens("sst2 sentence: {text}") == pytest.approx(2 * 4 / 3)
    shape = query_shape(t5, "text-classification", input_tokens=100)
    assert shape.tokens == round(100 + 2 * 4 / 3) + 1  # the words of the prompt, then </s>
    long = query_shape(t5, "summarization", input_tokens=2000)
    assert long.tokens == 512
    assert any("cut" in note for note in long.notes)

    # a decoder-only model keeps room for what it writes in its learned positions
    gpt2 = get_task_model("openai-community/gpt2")
    assert query_shape(gpt2, "text-generation", input_tokens=5000).tokens == 1024 - 10
    # an encoder-decoder's encoder reads up to its own limit
    bart = get_task_model("facebook/bart-large-cnn")
    assert query_shape(bart, "summarization", input_tokens=5000).tokens == 1024


def test_pairs_and_windows() -> None:
    bge = get_task_model("BAAI/bge-small-en-v1.5")
    shape = query_shape(bge, "sentence-similarity", input_tokens=40)
    assert (shape.tokens, shape.rows) == (20 + 2, 2)  # two sentences of 20, one forward
    e5 = get_task_model("intfloat/e5-large-v2")
    assert query_shape(e5, "sentence-similarity", input_tokens=40).tokens == 20 + 1 + 2

    qa = get_task_model("distilbert/distilbert-base-cased-distilled-squad")
    one = query_shape(qa, "question-answering", input_tokens=300)
    assert (one.calls, one.tokens) == (1, 303)
    many = query_shape(qa, "question-answering", input_tokens=1000)
    question = many.inputs["question_tokens"]
    room = QA_MAX_SEQ_LEN - question - 3
    context = many.inputs["context_tokens"]
    # windows start every room - stride tokens; the last one reaches the context's end
    assert (many.calls - 1) * (room - QA_DOC_STRIDE) + room >= context
    assert (many.calls - 2) * (room - QA_DOC_STRIDE) + room < context
    assert many.tokens == QA_MAX_SEQ_LEN


def test_generation_settings() -> None:
    bart = query_shape(get_task_model("facebook/bart-large-cnn"), "summarization")
    assert (bart.new_tokens, bart.beams) == (10, 4)  # AI Energy Score's 10; the checkpoint's 4
    whisper = query_shape(get_task_model("openai/whisper-tiny"), "automatic-speech-recognition")
    assert (whisper.new_tokens, whisper.beams) == (26, ASR_DEFAULT_BEAMS)
    assert (whisper.mel_bins, whisper.frames) == (80, 3000)
    v3 = query_shape(get_task_model("openai/whisper-large-v3"), "automatic-speech-recognition")
    assert v3.mel_bins == 128
    flan = query_shape(get_task_model("google/flan-t5-base"), "question-answering")
    assert (flan.new_tokens, flan.beams) == (10, 1)
    ctc = query_shape(get_task_model("facebook/wav2vec2-base-960h"), "automatic-speech-recognition")
    assert ctc.new_tokens is None and ctc.samples == round(7.42 * 16_000)


@pytest.mark.parametrize(
    ("repo_id", "task", "kwargs"),
    [
        ("google-bert/bert-base-uncased", "fill-mask", {"image_hw": (10, 10)}),
        ("google-bert/bert-base-uncased", "fill-mask", {"new_tokens": 3}),
        ("google-bert/bert-base-uncased", "summarization", {}),
        ("google/vit-base-patch16-224", "image-classification", {"input_tokens": 10}),
        ("openai/whisper-tiny", "automatic-speech-recognition", {"audio_s": -1.0}),
        ("openai-community/gpt2", "text-generation", {"new_tokens": 0}),
        ("openai-community/gpt2", "text-generation", {"batch": 0}),
        ("openai-community/gpt2", "text-generation", {"dtype": "int8"}),
    ],
)
def test_what_does_not_apply_is_refused(repo_id: str, task: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        task_compute(get_task_model(repo_id), task, **kwargs)


# --------------------------------------------------------------------------- counter


class _Toy(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.table = torch.nn.Embedding(100, 8)
        self.proj = torch.nn.Linear(8, 16)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.proj(self.table(ids))  # a gather, then addmm (t(weight) is a view)
        q = x.view(1, 2, ids.shape[1], 8)  # a view: no kernel
        return torch.nn.functional.scaled_dot_product_attention(q, q, q)


def test_the_counter_on_a_toy_whose_answer_is_known() -> None:
    with torch.device("meta"):
        toy = _Toy().eval()
    ids = torch.zeros(1, 5, dtype=torch.long, device="meta")
    _, tallies = Bucketed(toy).count(lambda: toy(ids), "forward")
    tally = tallies["forward"]
    assert tally.flops == 2 * 5 * 8 * 16 + 2 * (2 * 2 * 5 * 5 * 8)  # linear + QK^T and AV
    sizes = {id(p): p.numel() * 4 for p in toy.parameters()}
    # the linear whole (weight and bias), the table's 5 gathered rows only
    assert tally.weight_bytes(sizes) == (8 * 16 + 16) * 4 + 5 * 8 * 4
    # embedding, addmm, and the fused attention as one kernel writing its output only
    assert tally.kernels == 3
    assert tally.activation_bytes == (5 * 8 + 5 * 16 + 2 * 5 * 8) * 4


def test_a_meta_item_is_answered_only_for_a_boolean() -> None:
    class Asks(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2 if bool(x.gt(0).all()) else x

    class AsksValue(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * float(x.sum())

    x = torch.zeros(3, device="meta")
    _, tallies = Bucketed(Asks()).count(lambda: Asks()(x), "forward")
    assert tallies["forward"].answered_items == 1
    with pytest.raises(ConfigError, match="item"):
        Bucketed(AsksValue()).count(lambda: AsksValue()(x), "forward")


# ------------------------------------------------ meta against a real tiny pipeline


def _pipeline_flops(pipe: Any, query: Any, **kwargs: Any) -> float:
    """FlopCounterMode over the model's work in one pipeline call (every ``_forward``;
    not preprocessing, where Whisper's feature extractor multiplies by its mel filters)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    total = [0.0]
    original = pipe._forward

    def counted(*args: Any, **inner: Any) -> Any:
        counter = FlopCounterMode(display=False)
        with counter:
            out = original(*args, **inner)
        total[0] += counter.get_total_flops()
        return out

    pipe._forward = counted
    with sdpa_kernel([SDPBackend.MATH]), torch.no_grad():
        pipe(copy.deepcopy(query), **kwargs)
    return total[0]


def _image(height: int, width: int) -> Any:
    from PIL import Image

    return Image.fromarray(np.zeros((height, width, 3), dtype=np.uint8))


def _audio(seconds: float) -> dict[str, Any]:
    return {"raw": np.zeros(round(seconds * 16_000), dtype=np.float32), "sampling_rate": 16_000}


def _tokens(pipe: Any, text: str) -> int:
    return len(pipe.tokenizer(text)["input_ids"])


# Each case makes its query from the spec and the built pipeline (whose tokenizer says
# how many tokens a text is), and says how task_compute is to describe it.
MakeQuery = Callable[[TaskModelSpec, Any], tuple[Any, dict[str, Any]]]


def _text_case(words: int) -> MakeQuery:
    def make(spec: TaskModelSpec, pipe: Any) -> tuple[Any, dict[str, Any]]:
        text = _text(words)
        return text, {"input_tokens": _tokens(pipe, text) - special_tokens(spec.tokenizer)}

    return make


def _masked_case(words: int) -> MakeQuery:
    """A sentence with its last word masked, as the suite's fill-mask queries are."""

    def make(spec: TaskModelSpec, pipe: Any) -> tuple[Any, dict[str, Any]]:
        text = f"{_text(words - 1)} {pipe.tokenizer.mask_token}"
        return text, {"input_tokens": _tokens(pipe, text) - special_tokens(spec.tokenizer)}

    return make


def _prompt_case(task: str, words: int) -> MakeQuery:
    """A multi-purpose model's query written into its prompt, as the suite writes it."""

    def make(spec: TaskModelSpec, pipe: Any) -> tuple[Any, dict[str, Any]]:
        prompt = spec.prompt_for(task, text=_text(words))
        added = template_tokens(spec.prompts[task]) + special_tokens(spec.tokenizer)
        return prompt, {"input_tokens": _tokens(pipe, prompt) - added}

    return make


def _qa_case(spec: TaskModelSpec, pipe: Any) -> tuple[Any, dict[str, Any]]:
    query = {"question": _text(6), "context": _text(60, offset=7)}
    words = _tokens(pipe, query["question"]) + _tokens(pipe, query["context"])
    return query, {"input_tokens": words - 2 * special_tokens(spec.tokenizer)}


def _pair_case(spec: TaskModelSpec, pipe: Any) -> tuple[Any, dict[str, Any]]:
    query = {"text": _text(12), "text_pair": _text(12, offset=3)}
    sentence = _tokens(pipe, query["text"]) - special_tokens(spec.tokenizer)
    return query, {"input_tokens": 2 * sentence}


def _image_case(height: int, width: int) -> MakeQuery:
    return lambda spec, pipe: (_image(height, width), {"image_hw": (height, width)})


def _audio_case(seconds: float) -> MakeQuery:
    return lambda spec, pipe: (_audio(seconds), {"audio_s": seconds})


TINY_CASES: list[tuple[str, str, MakeQuery, dict[str, Any]]] = [
    ("distilbert/distilbert-base-uncased-finetuned-sst-2-english", "text-classification",
     _text_case(30), {}),
    ("dslim/bert-base-NER", "token-classification", _text_case(17), {}),
    ("deepset/deberta-v3-base-squad2", "question-answering", _qa_case, {}),
    ("BAAI/bge-small-en-v1.5", "sentence-similarity", _pair_case, {}),
    ("FacebookAI/roberta-base", "fill-mask", _masked_case(12), {}),
    ("openai-community/gpt2", "text-generation", _text_case(40), {"new_tokens": 6}),
    ("HuggingFaceTB/SmolLM-135M", "text-generation", _text_case(33), {"new_tokens": 5}),
    ("sshleifer/distilbart-cnn-12-6", "summarization", _text_case(50), {"new_tokens": 5}),
    ("google/flan-t5-base", "text-classification", _prompt_case("text-classification", 40),
     {"new_tokens": 4}),
    ("bigscience/bloomz-560m", "summarization", _prompt_case("summarization", 40),
     {"new_tokens": 3}),
    ("Salesforce/blip-image-captioning-base", "image-to-text", _image_case(40, 60),
     {"new_tokens": 5}),
    ("microsoft/git-base", "image-to-text", _image_case(40, 60), {"new_tokens": 5}),
    ("Salesforce/blip2-opt-2.7b", "image-to-text", _image_case(40, 60), {"new_tokens": 4}),
    ("google/vit-base-patch16-224", "image-classification", _image_case(50, 70), {}),
    ("facebook/convnext-tiny-224", "image-classification", _image_case(50, 70), {}),
    ("facebook/detr-resnet-50", "object-detection", _image_case(50, 70), {}),
    ("hustvl/yolos-tiny", "object-detection", _image_case(50, 70), {}),
    ("openai/whisper-tiny", "automatic-speech-recognition", _audio_case(5.0),
     {"new_tokens": 5}),
    ("openai/whisper-tiny", "automatic-speech-recognition", _audio_case(40.0),
     {"new_tokens": 3}),
    ("facebook/wav2vec2-base-960h", "automatic-speech-recognition", _audio_case(3.0), {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("repo_id", "task", "make", "settings"),
    TINY_CASES,
    ids=[f"{c[0].split('/')[1]}-{c[1]}" for c in TINY_CASES],
)
def test_a_tiny_form_on_meta_counts_what_its_real_pipeline_does(
    repo_id: str, task: str, make: MakeQuery, settings: dict[str, Any]
) -> None:
    spec = get_task_model(repo_id)
    pipe = build_task_pipeline(spec, task, "tiny")
    query, described = make(spec, pipe)
    new_tokens = settings.get("new_tokens")
    call = model_generation_kwargs(spec, task, new_tokens) if new_tokens else {}
    if spec.family == "whisper":
        call["chunk_length_s"] = ASR_CHUNK_S
    real = _pipeline_flops(pipe, query, **call)
    counted = task_compute(spec, task, weights="tiny", dtype="float32", **described, **settings)
    assert counted.flops == pytest.approx(real, rel=1e-6)
    assert all(phase.flops > 0 for phase in counted.phases.values())


# ------------------------------------------------------- closed forms, real sizes


def test_bert_base_on_128_tokens_is_its_closed_form() -> None:
    spec = get_task_model("google-bert/bert-base-uncased")
    c = spec.config
    d, ff, layers, vocab = (
        c["hidden_size"],
        c["intermediate_size"],
        c["num_hidden_layers"],
        c["vocab_size"],
    )
    tokens = 128
    per_token = layers * (4 * d * d + 2 * d * ff)  # q, k, v, out; two FFN matrices
    attention = 4 * layers * tokens * tokens * d  # QK^T and AV
    head = d * d + d * vocab  # the MLM transform, then the (tied) decoder
    expected = 2 * per_token * tokens + attention + 2 * head * tokens
    counted = task_compute(spec, "fill-mask", input_tokens=tokens - 2)
    assert counted.phases["forward"].flops == expected
    assert counted.phases["forward"].forwards == 1
    # every weight read once; the word table whole (the tied decoder reads it), the
    # position and token-type tables only in the rows gathered
    tables = (c["max_position_embeddings"] + c["type_vocab_size"]) * d
    expected_bytes = (counted.params - tables + 2 * tokens * d) * 4
    assert counted.phases["forward"].weight_bytes == expected_bytes


def test_a_llama_generation_is_decoder_lm_closed_form_and_its_cache() -> None:
    spec = get_task_model("HuggingFaceTB/SmolLM-135M")
    prompt, new, batch = 100, 10, 3
    counted = task_compute(spec, "text-generation", input_tokens=prompt, batch=batch)
    assert counted.inputs["model_tokens"] == prompt  # SmolLM's tokenizer adds nothing
    c = spec.config
    assert counted.phases["prefill"].flops == pytest.approx(batch * prefill(c, prompt).total)
    assert counted.phases["decode"].flops == pytest.approx(batch * decode(c, prompt, new).total)
    # KV bytes: 2 x layers x kv heads x head dim x context x batch x 2 bytes, every step
    head_dim = c["hidden_size"] // c["num_attention_heads"]
    contexts = sum(prompt + k for k in range(1, new))
    kv = 2 * c["num_hidden_layers"] * c["num_key_value_heads"] * head_dim * batch * 2
    assert counted.phases["decode"].kv_bytes == kv * contexts
    assert counted.phases["prefill"].kv_bytes == 0
    # a tied output layer: every step reads every weight once
    assert counted.dtype == "bfloat16"
    assert counted.phases["decode"].weight_bytes == (new - 1) * counted.params * 2
    assert counted.phases["decode"].forwards == new - 1


def test_a_gpt2_decode_is_two_flops_per_weight_plus_attention() -> None:
    spec = get_task_model("openai-community/gpt2")
    c = spec.config
    d, layers, vocab = c["n_embd"], c["n_layer"], c["vocab_size"]
    prompt, new, batch = 64, 8, 2
    counted = task_compute(spec, "text-generation", input_tokens=prompt, new_tokens=new,
                           batch=batch)  # fmt: skip
    matmul_params = layers * 12 * d * d + d * vocab  # attention 4d^2, MLP 8d^2; the head
    expected = sum(
        2 * matmul_params * batch + 4 * layers * d * (prompt + k) * batch for k in range(1, new)
    )
    assert counted.phases["decode"].flops == expected


def test_beams_multiply_the_decoder_not_the_encoder() -> None:
    spec = get_task_model("facebook/bart-large-cnn")
    one = task_compute(spec, "summarization", input_tokens=300)
    assert one.inputs["beams"] == 4
    four = task_compute(spec, "summarization", input_tokens=300, batch=4)
    # four queries encode four texts; the four beams of one query share one encoding
    assert four.phases["encode"].flops == pytest.approx(4 * one.phases["encode"].flops)
    # while the decoder runs on queries x beams sequences
    for phase in ("prefill", "decode"):
        assert four.phases[phase].flops == pytest.approx(4 * one.phases[phase].flops)
    single = task_compute(spec, "summarization", input_tokens=300, new_tokens=2)
    step = single.phases["decode"]
    no_beams = _without_beams(spec)
    plain = task_compute(no_beams, "summarization", input_tokens=300, new_tokens=2)
    # one step over 4 beams costs 4 sequences' FLOPs, plus the reorder (no FLOPs)
    assert step.flops == pytest.approx(4 * plain.phases["decode"].flops, rel=1e-3)
    assert step.kernels > plain.phases["decode"].kernels
    assert any("beam" in note for note in one.notes)


def _without_beams(spec: TaskModelSpec) -> TaskModelSpec:
    generation = {k: v for k, v in spec.generation.items() if k != "num_beams"}
    return dataclasses.replace(spec, generation=generation)


# ------------------------------------------------------------------- monotonicity

TINY_GPT2 = get_task_model("openai-community/gpt2")


@settings(max_examples=8, deadline=None)
@given(
    prompt=st.integers(min_value=1, max_value=60),
    extra=st.integers(min_value=1, max_value=40),
    new=st.integers(min_value=1, max_value=12),
    batch=st.integers(min_value=1, max_value=4),
)
def test_flops_grow_with_tokens_new_tokens_and_batch(
    prompt: int, extra: int, new: int, batch: int
) -> None:
    def flops(**kwargs: Any) -> TaskCompute:
        base = {"input_tokens": prompt, "new_tokens": new, "batch": batch, "weights": "tiny"}
        return task_compute(TINY_GPT2, "text-generation", **{**base, **kwargs})

    here = flops()
    assert flops(input_tokens=prompt + extra).flops > here.flops
    assert flops(batch=batch + 1).flops > here.flops
    longer = flops(new_tokens=new + 1)
    assert longer.flops > here.flops
    kv = [sum(p.kv_bytes for p in c.phases.values()) for c in (here, longer)]
    assert kv[1] > kv[0]


def test_flops_grow_with_the_pixels_and_seconds_the_model_sees() -> None:
    detr = get_task_model("facebook/detr-resnet-50")
    counts = [
        task_compute(detr, "object-detection", image_hw=hw) for hw in [(480, 500), (480, 640),
                                                                       (480, 800), (300, 900)]
    ]  # fmt: skip
    ordered = sorted(counts, key=lambda c: c.inputs["model_image_hw"][0] * c.inputs[
        "model_image_hw"][1])  # fmt: skip
    assert [c.flops for c in ordered] == sorted(c.flops for c in ordered)
    # a classifier's processor makes every image its own size
    vit = get_task_model("google/vit-base-patch16-224")
    small = task_compute(vit, "image-classification", image_hw=(32, 32))
    large = task_compute(vit, "image-classification", image_hw=(1000, 1500))
    assert small.flops == large.flops
    wav2vec = get_task_model("facebook/wav2vec2-base-960h")
    seconds = [task_compute(wav2vec, "automatic-speech-recognition", audio_s=s).flops
               for s in (1.0, 4.0, 9.0)]  # fmt: skip
    assert seconds == sorted(seconds) and seconds[0] < seconds[-1]
    whisper = get_task_model("openai/whisper-tiny")
    short = task_compute(whisper, "automatic-speech-recognition", audio_s=3.0)
    padded = task_compute(whisper, "automatic-speech-recognition", audio_s=29.0)
    chunked = task_compute(whisper, "automatic-speech-recognition", audio_s=45.0)
    assert short.flops == padded.flops  # Whisper pads every clip to 30 s
    assert chunked.flops == pytest.approx(2 * short.flops)


def test_the_result_is_plain_json() -> None:
    spec = get_task_model("openai/whisper-tiny")
    result = task_compute(spec, "automatic-speech-recognition")
    data = json.loads(json.dumps(result.to_dict()))
    assert list(data["phases"]) == ["encode", "prefill", "decode"]
    assert data["total"]["flops"] == pytest.approx(result.flops)
    assert data["inputs"]["beams"] == ASR_DEFAULT_BEAMS
    assert data["dtype"] == "float32"


# ------------------------------------------------------------- every model, every task

EVERY = [(s.repo_id, task) for s in list_task_models() if not s.is_diffusion for task in s.tasks]


@pytest.mark.slow
@pytest.mark.parametrize(("repo_id", "task"), EVERY, ids=[f"{r}-{t}" for r, t in EVERY])
def test_every_registered_model_of_every_task_is_counted(repo_id: str, task: str) -> None:
    spec = get_task_model(repo_id)
    result = task_compute(spec, task)
    generates = spec.decoder is not None
    expected = {"prefill", "decode"} if generates else {"forward"}
    assert expected <= set(result.phases)
    for name, phase in result.phases.items():
        assert phase.flops > 0, name
        assert phase.kernels > 0 and phase.forwards > 0, name
        assert phase.weight_bytes > 0 and phase.activation_bytes > 0, name
        assert (phase.kv_bytes > 0) == (name == "decode"), name
    assert result.params == spec.params
