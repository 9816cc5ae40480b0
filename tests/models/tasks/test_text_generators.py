"""The suite's text generators and summarizers: real sizes, tiny forms, token ids, and
each one generating through its pipeline on the tiny form, one query and a batch.

A config that drifts from the checkpoint (a wrong vocabulary, a layer too many) fails
the meta count; ids that disagree between a config and its tokenizer fail the id
checks; a model that stops early, or a call whose length settings the pipeline drops,
fails the exact count of new tokens; a wrong ``encoder``/``decoder`` path fails the
forward-hook counts the suite's phase windows rely on.
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import torch
import transformers

from genwatt.models.families import text as diffusion_text
from genwatt.models.tasks.build import build_task_model, build_task_pipeline, model_config
from genwatt.models.tasks.calls import model_generation_kwargs
from genwatt.models.tasks.catalog import get_task
from genwatt.models.tasks.registry import get_task_model, list_task_models
from genwatt.models.tasks.spec import TaskModelSpec, TokenizerScheme
from genwatt.models.tasks.text_generators import (
    SPECS,
    TEXT2TEXT_PIPELINE,
    TINY_VOCAB,
    tiny_token_ids,
)
from genwatt.models.tasks.text_tokenizer import scheme_vocab_size

# The issue's list, repo ids exactly as on the Hub ("plus the two you have" last).
REQUIRED = {
    "text-generation": {
        "distilbert/distilgpt2",
        "openai-community/gpt2",
        "openai-community/gpt2-medium",
        "openai-community/gpt2-large",
        "openai-community/gpt2-xl",
        "facebook/opt-125m",
        "facebook/opt-2.7b",
        "HuggingFaceTB/SmolLM-135M",
        "HuggingFaceTB/SmolLM-360M",
        "HuggingFaceTB/SmolLM-1.7B",
        "microsoft/phi-2",
        "mistralai/Mistral-7B-v0.1",
        "meta-llama/Meta-Llama-3-8B",
        "meta-llama/Llama-2-13b-hf",
        "Qwen/Qwen2.5-0.5B-Instruct",
        "meta-llama/Llama-3.1-8B-Instruct",
    },
    "summarization": {"facebook/bart-large-cnn", "sshleifer/distilbart-cnn-12-6"},
}
# gpt2-xl is "1.5B" on its card for 1.56B, phi-2 "2.7B" for 2.78B.
PUBLISHED_TOLERANCE = 0.04
TINY_QUERY_S = 0.1  # the suite's budget: 13 tasks of tiny models in 120 s on 2 cores
NEW_TOKENS = get_task("text-generation").new_tokens or 10
PROMPT = "the red cat sits on the green table near the old house"
SHORT = "a dog runs"
CONFIG_ROLES = {"bos_token_id": "bos", "eos_token_id": "eos", "pad_token_id": "pad"}


def _ids(spec: TaskModelSpec) -> str:
    return spec.repo_id


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@cache
def _pipe(repo_id: str) -> transformers.Pipeline:
    spec = get_task_model(repo_id)
    return build_task_pipeline(spec, spec.tasks[0], "tiny", dtype=torch.float32)


def _module(model: torch.nn.Module, path: str) -> torch.nn.Module:
    for name in filter(None, path.split(".")):
        model = getattr(model, name)
    return model


def _new_tokens(pipe: transformers.Pipeline, *args: Any, **kwargs: Any) -> list[int]:
    """How many tokens ``generate`` added to each sequence during one pipeline call."""
    counts: list[int] = []
    original = pipe.model.generate
    encoder_decoder = pipe.model.config.is_encoder_decoder

    def recording(*a: Any, **k: Any) -> torch.Tensor:
        out = original(*a, **k)
        prompt = 1 if encoder_decoder else k["input_ids"].shape[-1]  # decoder start token
        counts.extend([out.shape[-1] - prompt] * out.shape[0])
        return out

    pipe.model.generate = recording
    try:
        pipe(*args, **kwargs)
    finally:
        del pipe.model.generate
    return counts


def _config_ids(config: Any, key: str) -> list[int]:
    value = getattr(config, key, None)
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def _check_ids(config: Any, scheme: TokenizerScheme) -> None:
    """Each of the config's bos/eos/pad ids is its tokenizer's token of that role (an
    end-of-turn list needs the tokenizer's eos among its members)."""
    for key, role in CONFIG_ROLES.items():
        ids = _config_ids(config, key)
        if not ids or scheme.token_id(role) is None:
            continue
        if key == "bos_token_id" and scheme.token_id("bos") is None:
            continue
        assert scheme.token_id(role) in ids, (key, ids, scheme.specials)


# ---------------------------------------------------------------------------- registry


def test_every_model_of_the_issue_is_registered_under_its_repo_id() -> None:
    for task, repo_ids in REQUIRED.items():
        assert repo_ids <= {s.repo_id for s in list_task_models(task)}
    assert {s.repo_id for s in SPECS} == set().union(*REQUIRED.values())
    assert all(s.kind == "task-specific" and len(s.tasks) == 1 for s in SPECS)
    assert get_task_model("GPT2-Medium").repo_id == "openai-community/gpt2-medium"
    assert get_task_model("bart-large-cnn") is get_task_model("facebook/bart-large-cnn")


def test_the_diffusion_registrys_text_models_are_the_same_configs() -> None:
    qwen = get_task_model("Qwen/Qwen2.5-0.5B-Instruct")
    llama = get_task_model("meta-llama/Llama-3.1-8B-Instruct")
    assert dict(qwen.config) == diffusion_text.QWEN_0_5B
    assert dict(llama.config) == diffusion_text.LLAMA_3_1_8B
    assert qwen.params == diffusion_text.QWEN.denoiser.params
    assert llama.params == diffusion_text.LLAMA.denoiser.params


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_real_size_on_meta_matches_params_and_the_published_size(spec: TaskModelSpec) -> None:
    model = build_task_model(spec, "random", "meta")
    assert type(model).__name__ == spec.class_name
    assert _params(model) == spec.params
    assert spec.published_params is not None and spec.published_source
    assert abs(spec.params / spec.published_params - 1) < PUBLISHED_TOLERANCE
    assert spec.torch_dtype in {"float32", "float16", "bfloat16"}
    assert spec.source.endswith(spec.repo_id) or spec.repo_id in spec.source


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_token_ids_of_configs_and_tokenizers_agree(spec: TaskModelSpec) -> None:
    scheme = spec.tokenizer
    assert scheme is not None
    real = model_config(spec, "random")
    _check_ids(real, scheme)
    assert max(id_ for _, id_ in scheme.specials.values()) <= real.vocab_size
    tiny = model_config(spec, "tiny")
    _check_ids(tiny, scheme.compact())
    assert scheme_vocab_size(scheme.compact()) <= tiny.vocab_size == TINY_VOCAB
    if spec.tasks == ("text-generation",):
        assert scheme.padding_side == "left"  # a batch's prompts end where generation starts


def test_tiny_ids_refuse_a_role_the_tokenizer_lacks() -> None:
    gpt2 = get_task_model("gpt2").tokenizer
    assert gpt2 is not None
    with pytest.raises(ValueError, match="mask"):
        tiny_token_ids(gpt2, mask_token_id="mask")


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_tiny_form_is_small_and_of_the_same_classes(spec: TaskModelSpec) -> None:
    model = build_task_model(spec, "tiny", "meta")
    assert type(model).__name__ == spec.class_name
    assert _params(model) == spec.tiny_params
    assert spec.tiny_params is not None and spec.tiny_params < 400_000
    assert model.config.num_hidden_layers <= 2


# ---------------------------------------------------------------------------- pipelines


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_tiny_pipeline_generates_exactly_new_tokens_alone_and_in_a_batch(
    spec: TaskModelSpec,
) -> None:
    task = spec.tasks[0]
    pipe = _pipe(spec.repo_id)
    if spec.pipeline is None:
        assert isinstance(pipe, transformers.TextGenerationPipeline)
        assert pipe.tokenizer.padding_side == "left"
    else:
        assert spec.pipeline == TEXT2TEXT_PIPELINE
    kwargs = model_generation_kwargs(spec, task, NEW_TOKENS)

    one = pipe(PROMPT, **kwargs)
    assert len(one) == 1 and isinstance(one[0]["generated_text"], str)
    batch = pipe([PROMPT, SHORT], batch_size=2, **kwargs)
    assert len(batch) == 2
    answers = [a[0] if isinstance(a, list) else a for a in batch]
    assert all(isinstance(a["generated_text"], str) for a in answers)

    assert _new_tokens(pipe, PROMPT, **kwargs) == [NEW_TOKENS]
    assert _new_tokens(pipe, [PROMPT, SHORT], batch_size=2, **kwargs) == [NEW_TOKENS] * 2

    best = min(_timed(pipe, PROMPT, **kwargs) for _ in range(3))
    assert best < TINY_QUERY_S, f"{spec.repo_id}: {best:.3f} s per query"


def _timed(pipe: transformers.Pipeline, *args: Any, **kwargs: Any) -> float:
    start = time.perf_counter()
    pipe(*args, **kwargs)
    return time.perf_counter() - start


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_encoder_runs_once_and_decoder_once_per_new_token(spec: TaskModelSpec) -> None:
    pipe = _pipe(spec.repo_id)
    calls = {"encoder": 0, "decoder": 0}
    batches: list[int] = []

    def count(part: str) -> Any:
        def hook(module: torch.nn.Module, args: Any, kwargs: Any, output: Any) -> None:
            calls[part] += 1
            if part == "decoder":
                ids = kwargs.get("decoder_input_ids", kwargs.get("input_ids"))
                batches.append(ids.shape[0] if ids is not None else -1)

        return hook

    assert spec.decoder is not None
    handles = [
        _module(pipe.model, spec.decoder).register_forward_hook(count("decoder"), with_kwargs=True)
    ]
    if spec.encoder is not None:
        encoder = _module(pipe.model, spec.encoder)
        assert encoder is pipe.model.get_encoder()
        handles.append(encoder.register_forward_hook(count("encoder"), with_kwargs=True))
    try:
        pipe(PROMPT, **model_generation_kwargs(spec, spec.tasks[0], NEW_TOKENS))
    finally:
        for handle in handles:
            handle.remove()
    assert calls == {"encoder": 1 if spec.encoder is not None else 0, "decoder": NEW_TOKENS}
    beams = spec.generation.get("num_beams", 1)
    assert batches == [beams] * NEW_TOKENS  # BART-CNN keeps its 4 beams


def test_summarizers_keep_their_beams_and_the_suite_sets_the_length() -> None:
    for spec in SPECS:
        if "summarization" not in spec.tasks:
            continue
        generation = _pipe(spec.repo_id).model.generation_config
        assert generation.num_beams == 4 and generation.no_repeat_ngram_size == 3
        assert "min_length" not in spec.generation and "max_length" not in spec.generation
        assert spec.encoder == "model.encoder" and spec.decoder == ""
    assert get_task_model("facebook/bart-large-cnn").generation["forced_bos_token_id"] == 0


@pytest.mark.slow
def test_real_size_distilgpt2_generates_with_the_real_token_ids() -> None:
    spec = get_task_model("distilgpt2")
    pipe = build_task_pipeline(spec, "text-generation", "random", dtype=torch.float32)
    assert _params(pipe.model) == spec.params
    assert pipe.tokenizer.eos_token_id == 50256 == pipe.model.config.eos_token_id
    kwargs = model_generation_kwargs(spec, "text-generation", NEW_TOKENS)
    assert _new_tokens(pipe, [PROMPT, SHORT], batch_size=2, **kwargs) == [NEW_TOKENS] * 2


def test_pretrained_loading_pads_a_tokenizer_that_has_no_pad_token(tmp_path: Path) -> None:
    """GPT-2's own tokenizer has no pad token, and a batch cannot be padded without one:
    the real loading code gives it the scheme's (its end token), offline from a folder."""
    spec = get_task_model("gpt2")
    tiny = build_task_pipeline(spec, "text-generation", "tiny", dtype=torch.float32)
    tiny.model.save_pretrained(tmp_path)
    tiny.tokenizer.pad_token = None
    tiny.tokenizer.save_pretrained(tmp_path)
    assert transformers.AutoTokenizer.from_pretrained(tmp_path).pad_token is None

    pipe = build_task_pipeline(
        replace(spec, repo_id=str(tmp_path)), "text-generation", "pretrained"
    )
    assert pipe.tokenizer.pad_token == "<|endoftext|>"
    kwargs = model_generation_kwargs(spec, "text-generation", NEW_TOKENS)
    assert _new_tokens(pipe, [PROMPT, SHORT], batch_size=2, **kwargs) == [NEW_TOKENS] * 2
