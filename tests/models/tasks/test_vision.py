"""The suite's vision models: real sizes, processors, tiny forms, and each task's pipeline
run end to end on the tiny form, one image and a batch.

A config that drifts from the checkpoint (a wrong depth, a missing per-layer position
embedding) fails the meta count; a processor at the wrong size fails the pixel shapes,
which set the compute; a captioner that stops early, re-encodes the image per token or
starts from an id its embeddings lack fails the token and hook counts.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import transformers
from PIL import Image

from genwatt.models.tasks.build import (
    build_processor,
    build_task_model,
    build_task_pipeline,
    model_config,
)
from genwatt.models.tasks.calls import model_generation_kwargs
from genwatt.models.tasks.catalog import get_task
from genwatt.models.tasks.pipelines.captioning import ImageCaptioningPipeline
from genwatt.models.tasks.registry import get_task_model, list_task_models
from genwatt.models.tasks.spec import TaskModelSpec
from genwatt.models.tasks.text_tokenizer import scheme_vocab_size
from genwatt.models.tasks.vision import (
    BLIP2_OPT_TOKENIZER,
    BLIP_TOKENIZER,
    GIT_TOKENIZER,
    SPECS,
    TINY_QUERIES,
)
from genwatt.run.suite.task_instrument import module_at

# The list, repo ids exactly as on the Hub.
REQUIRED = {
    "image-classification": {
        "google/vit-base-patch16-224",
        "google/vit-base-patch16-384",
        "google/vit-large-patch32-384",
        "microsoft/resnet-18",
        "microsoft/resnet-50",
        "facebook/convnext-tiny-224",
        "facebook/convnext-base-384-22k-1k",
    },
    "object-detection": {
        "facebook/detr-resnet-50",
        "facebook/detr-resnet-101",
        "hustvl/yolos-tiny",
        "hustvl/yolos-small",
        "hustvl/yolos-base",
    },
    "image-to-text": {
        "Salesforce/blip-image-captioning-base",
        "Salesforce/blip-image-captioning-large",
        "microsoft/git-base",
        "Salesforce/blip2-opt-2.7b",
    },
}
PIPELINES = {
    "image-classification": transformers.ImageClassificationPipeline,
    "object-detection": transformers.ObjectDetectionPipeline,
    "image-to-text": ImageCaptioningPipeline,
}
PUBLISHED_TOLERANCE = 0.03  # the count a config builds vs. the size its authors state
TINY_QUERY_S = 0.1  # the suite's budget: 13 tasks of tiny models in 120 s on 2 cores
CAPTIONERS = [s for s in SPECS if s.tasks == ("image-to-text",)]
# Tokens before the caption in what generate() returns: BLIP's [DEC], GIT's [CLS],
# BLIP-2's query placeholders and its </s>.
PROMPT_TOKENS = {
    "Salesforce/blip-image-captioning-base": 1,
    "Salesforce/blip-image-captioning-large": 1,
    "microsoft/git-base": 1,
    "Salesforce/blip2-opt-2.7b": TINY_QUERIES + 1,
}


def _ids(spec: TaskModelSpec) -> str:
    return spec.repo_id


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _image(width: int, height: int, seed: int = 0) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


# A COCO-sized photo (640x480), a portrait one and a CIFAR-sized thumbnail (32x32).
PHOTO = _image(640, 480)
OTHER_PHOTO = _image(640, 480, seed=1)
THUMBNAIL = _image(32, 32, seed=2)


@pytest.fixture(scope="module")
def tiny_pipelines() -> dict[str, Any]:
    """Each model's tiny pipeline, built once for the module."""
    return {s.repo_id: build_task_pipeline(s, s.tasks[0], "tiny") for s in SPECS}


def _call_kwargs(spec: TaskModelSpec, new_tokens: int | None = None) -> dict[str, Any]:
    task = get_task(spec.tasks[0])
    if task.name == "object-detection":
        return {"threshold": 0.0}  # random heads score every box low
    tokens = task.new_tokens if new_tokens is None else new_tokens
    return model_generation_kwargs(spec, task.name, tokens)


# ------------------------------------------------------------------ registry entries


@pytest.mark.parametrize(("task", "repos"), REQUIRED.items())
def test_every_required_model_is_registered_under_its_task(task: str, repos: set[str]) -> None:
    listed = {s.repo_id for s in list_task_models(task)}
    assert repos <= listed
    for repo in repos:
        spec = get_task_model(repo)
        assert spec.repo_id == repo
        assert spec.tasks == (task,)
        assert spec.kind == "task-specific"
        assert spec in SPECS
        for alias in spec.aliases:
            assert get_task_model(alias.upper()) is spec


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_real_size_is_the_count_the_config_builds_and_close_to_the_published(
    spec: TaskModelSpec,
) -> None:
    counted = _params(build_task_model(spec, "random", "meta"))
    assert counted == spec.params
    assert spec.published_params is not None and spec.published_source
    assert abs(counted / spec.published_params - 1) < PUBLISHED_TOLERANCE
    assert spec.source.startswith("config.json of ")
    assert spec.processor is not None and spec.processor.source


def test_git_base_is_the_papers_129m_without_its_two_vocabulary_matrices() -> None:
    """Wang et al. 2022 count GIT-B as 129M: the image encoder and the decoder's layers,
    without the word embeddings and the untied output layer (30,522 x 768 each)."""
    model = build_task_model(get_task_model("microsoft/git-base"), "random", "meta")
    vocabulary = model.git.embeddings.word_embeddings.weight.numel() + _params(model.output)
    assert model.output.weight is not model.git.embeddings.word_embeddings.weight
    assert abs((_params(model) - vocabulary) / 129e6 - 1) < 0.01


def test_detr_runs_on_transformers_resnet_with_frozen_batch_norms() -> None:
    """No timm: the backbone is transformers' ResNet, its batch norms frozen (buffers),
    so the count is the timm form's; pretrained weights come from the no_timm branch."""
    for repo, depth in (("facebook/detr-resnet-50", 16), ("facebook/detr-resnet-101", 33)):
        spec = get_task_model(repo)
        model = build_task_model(spec, "random", "meta")
        backbone = model.model.backbone.model
        assert type(backbone).__name__ == "ResNetBackbone"
        assert sum(len(stage.layers) for stage in backbone.encoder.stages) == depth
        norms = [m for m in backbone.modules() if "BatchNorm" in type(m).__name__]
        assert norms and all(not list(m.parameters(recurse=False)) for m in norms)
        assert spec.revision == "no_timm"


def test_heads_predict_imagenet_and_coco_classes() -> None:
    for spec in SPECS:
        config = model_config(spec, "random")
        if spec.tasks == ("image-classification",):
            assert config.num_labels == 1000
        elif spec.tasks == ("object-detection",):
            assert config.num_labels == 91  # COCO ids 0..90, "N/A" included
            head = build_task_model(spec, "random", "meta").class_labels_classifier
            last = head.layers[-1] if hasattr(head, "layers") else head  # YOLOS: an MLP
            assert last.out_features == 92  # and the no-object class


# The input each real processor gives a 640x480 photo: the compute of the real model.
REAL_PIXELS = {
    "google/vit-base-patch16-224": (224, 224),
    "google/vit-base-patch16-384": (384, 384),
    "google/vit-large-patch32-384": (384, 384),
    "microsoft/resnet-18": (224, 224),
    "microsoft/resnet-50": (224, 224),
    "facebook/convnext-tiny-224": (224, 224),
    "facebook/convnext-base-384-22k-1k": (384, 384),
    "facebook/detr-resnet-50": (800, 1066),  # short side 800
    "facebook/detr-resnet-101": (800, 1066),
    "hustvl/yolos-tiny": (512, 672),  # short side 512, sides cut to a multiple of 16
    "hustvl/yolos-small": (800, 1056),
    "hustvl/yolos-base": (800, 1056),
    "Salesforce/blip-image-captioning-base": (384, 384),
    "Salesforce/blip-image-captioning-large": (384, 384),
    "microsoft/git-base": (224, 224),
    "Salesforce/blip2-opt-2.7b": (224, 224),
}


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_processors_size_a_photo_as_the_checkpoints_do(spec: TaskModelSpec) -> None:
    assert spec.processor is not None and spec.tiny_processor is not None
    real = build_processor(spec.processor)(images=PHOTO, return_tensors="pt")["pixel_values"]
    assert tuple(real.shape) == (1, 3, *REAL_PIXELS[spec.repo_id])
    tiny = build_processor(spec.tiny_processor)(images=PHOTO, return_tensors="pt")
    assert max(tiny["pixel_values"].shape[-2:]) <= 96


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_tiny_form_is_the_same_classes_small(spec: TaskModelSpec) -> None:
    tiny = build_task_model(spec, "tiny")
    real = build_task_model(spec, "random", "meta")
    assert type(tiny) is type(real)
    assert _params(tiny) == spec.tiny_params
    assert spec.tiny_params is not None and spec.tiny_params < 150_000


# The config attributes that name a tokenizer id, per captioner: (attribute path, role).
CONFIG_IDS = {
    "Salesforce/blip-image-captioning-base": [
        ("text_config.bos_token_id", "bos"),
        ("text_config.sep_token_id", "sep"),
        ("text_config.pad_token_id", "pad"),
    ],
    "microsoft/git-base": [
        ("bos_token_id", "bos"),
        ("eos_token_id", "eos"),
        ("pad_token_id", "pad"),
    ],
    "Salesforce/blip2-opt-2.7b": [
        ("text_config.bos_token_id", "bos"),
        ("text_config.pad_token_id", "pad"),
        ("image_token_index", "image"),
    ],
}
CONFIG_IDS["Salesforce/blip-image-captioning-large"] = CONFIG_IDS[
    "Salesforce/blip-image-captioning-base"
]


@pytest.mark.parametrize("spec", CAPTIONERS, ids=_ids)
@pytest.mark.parametrize("weights", ["random", "tiny"])
def test_config_ids_are_the_tokenizers_ids(spec: TaskModelSpec, weights: str) -> None:
    """Start, end, padding and image ids of the config are the tokenizer's (real ids for
    the real size, compact ids for the tiny form), and every id fits the embeddings."""
    assert spec.tokenizer is not None
    scheme = spec.tokenizer.compact() if weights == "tiny" else spec.tokenizer
    config = model_config(spec, weights)
    for path, role in CONFIG_IDS[spec.repo_id]:
        assert module_at(config, path) == scheme.token_id(role), path
    assert config.get_text_config().vocab_size >= scheme_vocab_size(scheme)


def test_blip2_stops_at_the_newline_its_checkpoint_names() -> None:
    """BLIP-2's OPT ends a caption at "\\n" (50118), not OPT's </s>; the tiny form, whose
    vocabulary has no newline, ends at </s>."""
    spec = get_task_model("Salesforce/blip2-opt-2.7b")
    assert model_config(spec, "random").text_config.eos_token_id == 50118
    tiny = model_config(spec, "tiny").text_config.eos_token_id
    assert tiny == BLIP2_OPT_TOKENIZER.compact().token_id("eos")


@pytest.mark.parametrize(
    ("scheme", "real_vocab"),
    [(BLIP_TOKENIZER, 30524), (GIT_TOKENIZER, 30522), (BLIP2_OPT_TOKENIZER, 50272)],
    ids=lambda v: getattr(v, "family", str(v)),
)
def test_special_ids_are_inside_the_real_vocabulary(scheme: Any, real_vocab: int) -> None:
    ids = [i for _, i in scheme.specials.values()]
    assert max(ids) < real_vocab
    assert scheme_vocab_size(scheme) <= real_vocab


# ------------------------------------------------------------------ tiny pipelines


def _check_output(spec: TaskModelSpec, output: Any) -> None:
    """The structure each task's answer has."""
    task = spec.tasks[0]
    if task == "image-classification":
        assert len(output) == 5
        assert all(answer["label"].startswith("LABEL_") for answer in output)
        scores = [answer["score"] for answer in output]
        assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 1
    elif task == "object-detection":
        assert len(output) == spec.tiny_config.get("num_queries", 10)  # every box at 0.0
        for found in output:
            assert set(found) == {"score", "label", "box"}
            box = found["box"]
            assert 0 <= box["xmin"] <= box["xmax"] and 0 <= box["ymin"] <= box["ymax"]
    else:
        (caption,) = output
        assert set(caption) == {"generated_text"} and caption["generated_text"].strip()


def _same(a: Any, b: Any) -> None:
    """Equal answers, scores to float tolerance (batching changes rounding only)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, float | np.floating):
        assert a == pytest.approx(b, rel=1e-4, abs=1e-5)
    else:
        assert a == b


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_tiny_pipeline_answers_one_image_and_a_batch_alike(
    spec: TaskModelSpec, tiny_pipelines: dict[str, Any]
) -> None:
    pipe = tiny_pipelines[spec.repo_id]
    assert type(pipe) is PIPELINES[spec.tasks[0]]
    kwargs = _call_kwargs(spec)
    # transformers stacks a batch's pixels: detection images are resized to their own
    # aspect, so a batch holds images of one shape (the thumbnail runs alone).
    images = [PHOTO, OTHER_PHOTO, PHOTO]
    singles = [pipe(image, **kwargs) for image in images]
    for output in singles:
        _check_output(spec, output)
    _check_output(spec, pipe(THUMBNAIL, **kwargs))
    batched = pipe(images, batch_size=2, **kwargs)
    if spec.tasks == ("image-to-text",):
        batched = [[answer] for answer in batched]  # a list input gives one dict per image
    _same(batched, singles)


def _count_calls(model: torch.nn.Module, spec: TaskModelSpec) -> tuple[dict[str, int], list[Any]]:
    counts = {"encoder": 0, "decoder": 0}
    handles = []
    for role in counts:
        path = getattr(spec, role)
        assert path is not None

        def hook(*_: Any, role: str = role) -> None:
            counts[role] += 1

        handles.append(module_at(model, path).register_forward_hook(hook))
    return counts, handles


@pytest.mark.parametrize("spec", CAPTIONERS, ids=_ids)
def test_captioners_generate_exactly_n_tokens_encoding_the_image_once(
    spec: TaskModelSpec, tiny_pipelines: dict[str, Any]
) -> None:
    """With the suite's call the image encoder runs once per batch and the decoder once
    per new token (GIT included: its image tokens stay in the cache after the prefill),
    and generate() returns the prompt and exactly n tokens, random weights or not."""
    pipe = tiny_pipelines[spec.repo_id]
    new_tokens = 10
    kwargs = _call_kwargs(spec, new_tokens)
    counts, handles = _count_calls(pipe.model, spec)
    try:
        (answer,) = pipe(PHOTO, return_tensors=True, **kwargs)
        assert counts == {"encoder": 1, "decoder": new_tokens}
        assert len(answer["generated_token_ids"]) == PROMPT_TOKENS[spec.repo_id] + new_tokens
        counts.update(encoder=0, decoder=0)
        answers = pipe([PHOTO, OTHER_PHOTO, THUMBNAIL], batch_size=2, return_tensors=True, **kwargs)
        assert counts == {"encoder": 2, "decoder": 2 * new_tokens}  # batches of 2 and 1
        for answer in answers:
            assert len(answer["generated_token_ids"]) == PROMPT_TOKENS[spec.repo_id] + new_tokens
    finally:
        for handle in handles:
            handle.remove()


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_tiny_query_is_well_inside_the_suites_budget(
    spec: TaskModelSpec, tiny_pipelines: dict[str, Any]
) -> None:
    pipe = tiny_pipelines[spec.repo_id]
    kwargs = _call_kwargs(spec)
    pipe(PHOTO, **kwargs)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        pipe(PHOTO, **kwargs)
        timings.append(time.perf_counter() - start)
    assert sorted(timings)[1] < TINY_QUERY_S


def test_captioning_takes_generation_settings_once() -> None:
    pipe = build_task_pipeline(get_task_model("blip-base"), "image-to-text", "tiny")
    with pytest.raises(ValueError, match="max_new_tokens"):
        pipe(PHOTO, max_new_tokens=3, generate_kwargs={"max_new_tokens": 3})
    (caption,) = pipe(PHOTO, max_new_tokens=3, min_new_tokens=3, return_tensors=True)
    assert len(caption["generated_token_ids"]) == 1 + 3


@pytest.mark.parametrize("name", ["vit-base-224", "resnet-50", "detr-resnet-50", "blip-base"])
def test_pretrained_loading_reads_what_the_classes_save(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--weights pretrained`` goes through ``from_pretrained`` of the spec's class,
    ``AutoImageProcessor`` and ``AutoTokenizer``, at the spec's revision: a tiny model and
    its processor saved to a folder load and run as built."""
    spec = get_task_model(name)
    task = spec.tasks[0]
    built = build_task_pipeline(spec, task, "tiny")
    built.model.save_pretrained(tmp_path)
    built.image_processor.save_pretrained(tmp_path)
    if built.tokenizer is not None:
        built.tokenizer.save_pretrained(tmp_path)
    revisions: list[Any] = []
    model_class = getattr(transformers, spec.class_name)
    original = model_class.from_pretrained.__func__

    def spy(cls: type, path: str, **kwargs: Any) -> Any:
        revisions.append(kwargs.pop("revision", None))
        return original(cls, path, **kwargs)  # a local folder has no branches

    monkeypatch.setattr(model_class, "from_pretrained", classmethod(spy))
    local = replace(spec, repo_id=str(tmp_path), aliases=())
    loaded = build_task_pipeline(local, task, "pretrained")
    assert revisions == [spec.revision]
    assert type(loaded.model) is type(built.model)
    assert type(loaded) is type(built)
    kwargs = _call_kwargs(spec)
    _same(loaded(PHOTO, **kwargs), built(PHOTO, **kwargs))


# ------------------------------------------------------------------ real sizes


def test_blip2_generates_from_its_real_ids_and_32_queries() -> None:
    """BLIP-2 at real size (3.7B) runs only on a GPU, and the tiny form renumbers the
    ids; this narrows its layers but keeps the real vocabulary, ids, 32 query tokens
    and 224-pixel images: generate() must place the 32 image tokens and the </s> before
    the caption and give exactly n new tokens."""
    spec = get_task_model("Salesforce/blip2-opt-2.7b")
    narrow = {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 2}
    config = dict(spec.config)
    config["vision_config"] = {**config["vision_config"], **narrow, "num_hidden_layers": 1}
    config["qformer_config"] = {
        **config["qformer_config"],
        **narrow,
        "num_hidden_layers": 2,
        "encoder_hidden_size": 32,
    }
    text = {"hidden_size": 32, "word_embed_proj_dim": 32, "ffn_dim": 64, "num_hidden_layers": 1}
    config["text_config"] = {**config["text_config"], **text, "num_attention_heads": 2}
    pipe = build_task_pipeline(replace(spec, config=config), "image-to-text", "random")
    (answer,) = pipe(PHOTO, return_tensors=True, **_call_kwargs(spec, 4))
    ids = answer["generated_token_ids"]
    assert ids[:33] == [50265] * 32 + [2]  # <image> x 32, </s>
    assert len(ids) == 33 + 4


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vit-base-224", "detr-resnet-50", "yolos-tiny", "blip-base"])
def test_real_size_with_random_weights_runs_one_photo(name: str) -> None:
    """The real architecture with random weights (``--weights random``) at the
    checkpoint's image size: what AI Energy Score measures. Only models well under 500M
    parameters run here, on the CPU."""
    spec = get_task_model(name)
    pipe = build_task_pipeline(spec, spec.tasks[0], "random")
    if spec.tasks == ("image-to-text",):
        (answer,) = pipe(PHOTO, return_tensors=True, **_call_kwargs(spec, 3))
        ids = answer["generated_token_ids"]
        assert len(ids) == 1 + 3 and ids[0] == BLIP_TOKENIZER.token_id("bos")
    else:
        output = pipe(PHOTO, **_call_kwargs(spec))
        assert output and all("score" in found for found in output)
