"""The shipped counts of every suite model's typical query: complete, current, torch-free."""

from __future__ import annotations

import subprocess
import sys

import pytest

from genwatt.models.tasks.registry import get_task_model, list_task_models
from genwatt.predict.typical_compute import compute_key, shipped_counts, typical_settings


def test_every_suite_model_ships_its_typical_query_on_every_task() -> None:
    counts = shipped_counts()
    missing = [
        (spec.repo_id, task, settings["dtype"])
        for spec in list_task_models()
        if not spec.is_diffusion
        for task in spec.tasks
        for settings in typical_settings(spec, task)
        if compute_key(spec, task, settings) not in counts
    ]
    assert not missing, f"run `python -m genwatt.predict.typical_compute --write`: {missing[:5]}"


def test_protocol_precisions_are_among_the_typical_settings() -> None:
    gpt2 = get_task_model("openai-community/gpt2")
    bert = get_task_model("google-bert/bert-base-uncased")
    assert [s["dtype"] for s in typical_settings(gpt2, "text-generation")] == [None, "float16"]
    assert [s["dtype"] for s in typical_settings(bert, "fill-mask")] == [None, "float32"]


def test_a_greedy_protocol_adds_a_one_beam_count_only_where_the_model_searches_beams() -> None:
    bart = get_task_model("facebook/bart-large-cnn")  # 4 beams in its generation config
    whisper = get_task_model("openai/whisper-tiny")  # the speech pipeline's 5 beams
    gpt2 = get_task_model("openai-community/gpt2")  # greedy already
    assert {"dtype": "float32", "beams": 1}.items() <= typical_settings(bart, "summarization")[
        -1
    ].items()
    assert any(
        s.get("beams") == 1 for s in typical_settings(whisper, "automatic-speech-recognition")
    )
    assert all("beams" not in s for s in typical_settings(gpt2, "text-generation"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "task"),
    [
        ("distilbert/distilbert-base-uncased-finetuned-sst-2-english", "text-classification"),
        ("google/flan-t5-base", "question-answering"),
        ("openai/whisper-tiny", "automatic-speech-recognition"),
    ],
)
def test_shipped_counts_equal_a_count_made_now(model: str, task: str) -> None:
    from genwatt.flops.task_compute import task_compute

    spec = get_task_model(model)
    for settings in typical_settings(spec, task):
        fresh = task_compute(spec, task, **settings).to_dict()
        assert shipped_counts()[compute_key(spec, task, settings)] == fresh, (
            "task_compute changed: run `python -m genwatt.predict.typical_compute --write`"
        )


def test_a_typical_prediction_needs_no_torch() -> None:
    code = (
        "import sys\n"
        "from genwatt.predict.task_predictor import predict_task\n"
        "predict_task('distilbert-sst2', 'h100-sxm', protocol='ai-energy-score')\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == ["False", "False"]


def test_a_protocol_with_its_own_datasets_adds_a_count_of_their_typical_query() -> None:
    from genwatt.models.tasks.workloads import typical_query

    vit = get_task_model("google/vit-base-patch16-224")
    aies = [s for s in typical_settings(vit, "image-classification") if "workload" in s]
    assert [s["workload"] for s in aies] == ["ai-energy-score"]
    bert = get_task_model("google-bert/bert-base-uncased")  # fill-mask: the same datasets' sizes
    assert all("workload" not in s for s in typical_settings(bert, "fill-mask"))
    # arXiv papers are truncated at the model's input limit before the mix is averaged.
    capped = typical_query("summarization", "ai-energy-score", cap=1024)["text"]
    assert capped < typical_query("summarization", "ai-energy-score")["text"]
    assert capped == pytest.approx((1024 + 94 * 4 / 3 + 1024) / 3, rel=0.01)
