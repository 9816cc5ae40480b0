"""``genwatt tasks`` and ``genwatt suite`` through the installed console script."""

from __future__ import annotations

import json
from typing import Any

import pytest

from genwatt.models.tasks.catalog import TASKS


def _json(result: Any) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_tasks_lists_the_thirteen_tasks_with_their_models(genwatt: Any) -> None:
    rows = _json(genwatt("tasks", "--json"))
    assert [r["task"] for r in rows] == list(TASKS)
    assert all(r["models"] for r in rows)
    classification = next(r for r in rows if r["task"] == "text-classification")
    kinds = {m["kind"] for m in classification["models"]}
    assert kinds == {"task-specific", "multi-purpose"}
    table = genwatt("tasks", "question-answering")
    assert table.returncode == 0 and "deepset/deberta-v3-base-squad2" in table.stdout


def test_an_unknown_task_gets_one_line_with_suggestions(genwatt: Any) -> None:
    result = genwatt("tasks", "text-clasification")
    assert result.returncode == 2
    assert "Did you mean: text-classification" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_suite_json_has_every_field_and_resumes(genwatt: Any) -> None:
    args = ("suite", "--tasks", "text-classification,fill-mask", "--queries", "4", "--json")
    summary = _json(genwatt(*args, "--batch-sizes", "1,2", timeout_s=300))
    assert [t["task"] for t in summary["tasks"]] == ["text-classification", "fill-mask"]
    for task in summary["tasks"]:
        assert "multi_purpose_ratio" in task
        for m in task["models"]:
            assert m["status"] == "ok", m.get("error")
            assert m["energy_wh_per_1000"] > 0
            assert m["gpu_energy_wh_per_1000"] is None  # no GPU here, and no made-up one
            assert m["energy_provenance"] == "estimated"
            assert m["kind"] in ("task-specific", "multi-purpose")
            assert m["batch_size"] in (1, 2) and m["queries"] == 4
            assert m["latency_s_per_query"] > 0
            assert "other" in m["phases"]
            assert m["quality"] is None and "weights" in m["quality_note"]
            assert "stars" in m
    again = genwatt(*args, "--batch-sizes", "1,2", timeout_s=300)
    assert _json(again) == summary  # nothing ran again: the stored runs are the answer


@pytest.mark.slow
def test_suite_table_and_progress(genwatt: Any) -> None:
    result = genwatt("suite", "--tasks", "sentence-similarity", "--queries", "3", timeout_s=300)
    assert result.returncode == 0, result.stderr
    assert "sentence-similarity" in result.stdout and "Wh/1k machine" in result.stdout
    assert "configurations run" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--protocol", "ai-energy-score", "--batch-sizes", "1,8"), "batch size 1"),
        (("--protocol", "nope"), "Unknown protocol"),
        (("--tasks", "text-generaton"), "Did you mean: text-generation"),
        (("--models", "bert-larg"), "Unknown model"),
        (("--weights", "huge"), "Unknown weights"),
        (("--data", "missing.jsonl", "--tasks", "fill-mask"), "missing.jsonl"),
        (("--data", "x.txt"), "one task"),
    ],
)
def test_bad_options_get_one_clear_line(genwatt: Any, args: tuple[str, ...], message: str) -> None:
    if "x.txt" in args:
        (genwatt.cwd / "x.txt").write_text("a line\n")
    result = genwatt("suite", *args)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# The phases each kind of model is metered in (besides "other").
_ENCODERS = {"preprocess", "forward", "postprocess"}
_GENERATORS = {"preprocess", "prefill", "decode", "postprocess"}


@pytest.mark.slow
def test_every_task_runs_end_to_end_on_its_tiny_models(genwatt: Any) -> None:
    summary = _json(genwatt("suite", "--queries", "2", "--json", timeout_s=600))
    assert [t["task"] for t in summary["tasks"]] == list(TASKS)
    for task in summary["tasks"]:
        name = task["task"]
        assert task["models"], name
        for m in task["models"]:
            assert m["status"] == "ok", (name, m["model"], m.get("error"))
            assert m["phases_add_up"], (name, m["model"])
            assert m["energy_wh_per_1000"] > 0 and m["queries"] == 2
            phases = set(m["phases"]) - {"other"}
            if name in ("text-to-image", "text-to-video"):
                assert {"denoise", "vae_decode"} <= phases, (name, m["model"], phases)
            elif m["model"] == "wav2vec2-tiny" or not TASKS[name].generates:
                if m["kind"] == "multi-purpose":
                    assert phases >= _GENERATORS, (name, m["model"], phases)
                else:
                    assert phases == _ENCODERS, (name, m["model"], phases)
            else:
                assert phases >= _GENERATORS, (name, m["model"], phases)
    ratios = {t["task"]: t["multi_purpose_ratio"] for t in summary["tasks"]}
    assert all(ratios[t] for t in ("text-classification", "question-answering", "summarization"))
    assert ratios["fill-mask"] is None
